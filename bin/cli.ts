import { Command, Option } from 'commander';
import { registerOperatorCommands } from '../lib/cli';
import { runInitCommand } from '../lib/recipes/init-command';
import { runRecipesCommand } from '../lib/recipes/recipes-command';
import { REPORT_FORMATS, type ReportFormat } from '../lib/recipes/report-formats';
import packageJson from '../package.json';

// The operator CLI: a registry of commands. Each command's logic lives under lib/ (lib/recipes, lib/cli);
// this file only wires arguments to it and sets the exit code.
const program = new Command('gpt-oss')
  .description('Operate the GPT-OSS fine-tuning platform')
  .version(packageJson.version, '-V, --version', 'print the version (package.json) and exit');

program
  .command('recipes')
  .description(
    'validate recipes and print the memory / cost report (exit 1 if any recipe is invalid); with files, only those',
  )
  .argument('[files...]', 'recipe files to check (default: every recipe in --dir)')
  .option('--dir <dir>', 'recipes directory', 'recipes')
  .option('--details', 'print per-recipe memory breakdowns and run/serving estimates', false)
  .option('--fix', 'first rewrite renamed keys (torch_dtype, warmup_ratio) in place, keeping comments', false)
  .addOption(
    new Option('--format <format>', 'github: workflow annotations; markdown: the PR comment table')
      .choices(REPORT_FORMATS)
      .default('text'),
  )
  .option('--json', 'same as --format json', false)
  .option('--base <dir>', 'recipes directory to compare with (markdown: only added/changed recipes, with changes)')
  .action(
    (
      files: string[],
      opts: {
        dir: string;
        details: boolean;
        fix: boolean;
        format: ReportFormat;
        json: boolean;
        base?: string;
      },
    ) => {
      process.exitCode = runRecipesCommand({
        dir: opts.dir,
        files,
        details: opts.details,
        fix: opts.fix,
        format: opts.json ? 'json' : opts.format,
        base: opts.base,
        cwd: process.cwd(),
        stdout: process.stdout,
        stderr: process.stderr,
      });
    },
  );

program
  .command('init')
  .description('start recipes/<name>.yaml from a shipped recipe or a recipe file; kept only if it passes the check')
  .argument('<name>', 'new recipe name: lowercase letters, digits and hyphens')
  .requiredOption('--from <recipe-or-file>', 'a recipe name in --dir (e.g. gpt-oss-20b-multilingual-lora) or a file')
  .option('--dir <dir>', 'recipes directory', 'recipes')
  .action((name: string, opts: { from: string; dir: string }) => {
    process.exitCode = runInitCommand({
      name,
      from: opts.from,
      dir: opts.dir,
      cwd: process.cwd(),
      stdout: process.stdout,
      stderr: process.stderr,
    });
  });

// operator commands over the AWS SDK (prepare-data, run, watch, models, approve, reject, chat).
registerOperatorCommands(program, {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  setExitCode: (code) => {
    process.exitCode = code;
  },
});

// parseAsync: the operator commands' actions are async.
program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});

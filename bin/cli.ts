import { Command, Option } from 'commander';
import { registerOperatorCommands } from '../lib/cli';
import { runRecipesCommand } from '../lib/recipes/recipes-command';
import { REPORT_FORMATS, type ReportFormat } from '../lib/recipes/report-formats';

// The operator CLI: a registry of commands. Each command's logic lives under lib/ (lib/recipes, lib/cli);
// this file only wires arguments to it and sets the exit code.
const program = new Command('gpt-oss').description('Operate the GPT-OSS fine-tuning platform');

program
  .command('recipes')
  .description('validate every recipe and print the memory / cost report (exit 1 if any recipe is invalid)')
  .option('--dir <dir>', 'recipes directory', 'recipes')
  .option('--details', 'print per-recipe memory breakdowns and run/serving estimates', false)
  .addOption(
    new Option('--format <format>', 'github: workflow annotations; markdown: the PR comment table')
      .choices(REPORT_FORMATS)
      .default('text'),
  )
  .option('--json', 'same as --format json', false)
  .option('--base <dir>', 'recipes directory to compare with (markdown: only added/changed recipes, with changes)')
  .action((opts: { dir: string; details: boolean; format: ReportFormat; json: boolean; base?: string }) => {
    process.exitCode = runRecipesCommand({
      dir: opts.dir,
      details: opts.details,
      format: opts.json ? 'json' : opts.format,
      base: opts.base,
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

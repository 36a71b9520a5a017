import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../lib/config/errors';
import {
  defaultTools,
  deployLocally,
  executeLocally,
  localHyperParameters,
  type LocalPlatform,
  stage,
} from '../lib/local/local-run';

// `npm run local [recipe]` (.ci/local.sh): one recipe through the artifacts synth wrote, on this machine.
const DEFAULT_RECIPE = 'recipes/gpt-oss-20b-multilingual-lora.yaml';
const STAGES = ['train', 'register', 'deploy'] as const;

const program = new Command('local')
  .description('run one recipe through its synthesized pipeline on this machine (moto, CPU, tiny model)')
  .argument('[recipe]', 'recipe file', DEFAULT_RECIPE)
  .addOption(new Option('--until <stage>', 'stop after this stage').choices(STAGES).default('train'))
  .option('--max-steps <n>', 'the pipeline MaxSteps parameter (training steps on the tiny model)', '12')
  .option('--work-dir <dir>', 'where the job directories and cdk.out go', 'local-run')
  .action(async (recipe: string, opts: { until: string; maxSteps: string; workDir: string }) => {
    const log = (line: string): void => void process.stdout.write(`${line}\n`);
    const repoRoot = path.resolve(__dirname, '..');
    const started = Date.now();
    if (opts.until !== 'train') {
      // the REGISTER and DEPLOY state machines are not run locally yet (README "Local run": fidelity notes).
      throw new ConfigError('--until', [`"${opts.until}" is not available locally yet; use --until train`]);
    }
    const workDir = path.resolve(opts.workDir);
    fs.rmSync(workDir, { recursive: true, force: true });
    let platform: LocalPlatform | undefined;
    try {
      platform = await deployLocally(recipe, { workDir, tools: defaultTools(repoRoot), log });
      const p = platform;
      const hyperParameters = localHyperParameters(p, Number(opts.maxSteps));
      log(
        `    local HyperParameters: ${Object.entries(hyperParameters)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
      const result = await stage(`pipeline ${p.synth.pipelineName} (MaxSteps=${opts.maxSteps})`, log, () =>
        executeLocally(p, { parameters: { MaxSteps: Number(opts.maxSteps) }, hyperParameters, log }),
      );
      log(
        `    execution ${result.execution.PipelineExecutionId}: ${result.status}${result.failureReason ? `: ${result.failureReason}` : ''}`,
      );
      const trained = result.steps.find((s) => s.type === 'Training' && s.status === 'Succeeded');
      const gate = result.steps.find((s) => s.type === 'Fail' && s.status === 'Failed');
      if (result.status !== 'Succeeded' && !(gate && trained)) {
        process.exitCode = 1;
        return;
      }
      if (gate) {
        // a randomly initialised 2-layer model does not reach a real recipe's max_eval_loss: the execution ends
        // Failed as it would on SageMaker (nothing would be registered), and its job output is still there to try.
        log(`    the quality gate stopped the execution (${gate.name}), as expected of a tiny random model`);
      }
      const props = (trained?.properties ?? {}) as { ModelArtifacts?: { S3ModelArtifacts?: string } };
      log(`    model: ${props.ModelArtifacts?.S3ModelArtifacts}`);
      await stage('reply from the trained model (the merged output the job wrote)', log, async () => {
        const model = path.join(workDir, 'jobs', trained?.name ?? '', 'opt_ml', 'model');
        const proc = spawnSync(p.tools.python, ['-m', 'gpt_oss_train.local_job', 'reply', '--model', model], {
          encoding: 'utf8',
          env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'training-code') },
        });
        if (proc.status !== 0) throw new Error(`reply failed:\n${proc.stderr}`);
        log(proc.stdout.trimEnd().replace(/^/gm, '    '));
      });
      log(`local run finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } finally {
      await platform?.stop();
    }
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(
    `${e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../lib/config/errors';
import { chatStage, deployStage, registerStage } from '../lib/local/delivery-stages';
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
type Until = (typeof STAGES)[number];
const QUESTION = 'What is the capital of Australia?';

interface LocalOptions {
  readonly until: Until;
  readonly maxSteps: string;
  readonly workDir: string;
  readonly keepQualityGate?: boolean;
}

const program = new Command('local')
  .description('run one recipe through its synthesized pipeline, REGISTER and DEPLOY on this machine (moto, CPU)')
  .argument('[recipe]', 'recipe file', DEFAULT_RECIPE)
  .addOption(new Option('--until <stage>', 'stop after this stage').choices(STAGES).default('deploy'))
  .option('--max-steps <n>', 'the pipeline MaxSteps parameter (training steps on the tiny model)', '12')
  .option('--keep-quality-gate', "keep the recipe's max_eval_loss (a tiny random model does not reach it)")
  .option('--work-dir <dir>', 'where the job directories, endpoints and cdk.out go', 'local-run')
  .action(async (recipe: string, opts: LocalOptions) => {
    const log = (line: string): void => void process.stdout.write(`${line}\n`);
    const repoRoot = path.resolve(__dirname, '..');
    const started = Date.now();
    const workDir = path.resolve(opts.workDir);
    fs.rmSync(workDir, { recursive: true, force: true });
    let platform: LocalPlatform | undefined;
    try {
      platform = await deployLocally(recipe, {
        workDir,
        tools: defaultTools(repoRoot),
        log,
        qualityGate: opts.keepQualityGate ? 'recipe' : 'better-than-chance',
      });
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
      const props = (trained?.properties ?? {}) as { ModelArtifacts?: { S3ModelArtifacts?: string } };
      log(`    model: ${props.ModelArtifacts?.S3ModelArtifacts}`);
      if (gate || opts.until === 'train') {
        // stopped at the recipe's own gate (--keep-quality-gate), as SageMaker would: nothing is registered, and
        // the job's output is still there to try.
        if (gate) log(`    the quality gate stopped the execution (${gate.name}); nothing is registered`);
        await replyFromJobOutput(p, trained?.name ?? '', log);
      } else {
        const registered = await registerStage(p, result, log);
        if (opts.until === 'deploy') {
          await deployStage(p, registered, log);
          await chatStage(p, QUESTION, log);
        }
      }
      log(`local run finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } finally {
      await platform?.stop();
    }
  });

/** The merged model the job wrote answers the sample's first prompt (no endpoint: the run stopped before). */
async function replyFromJobOutput(p: LocalPlatform, step: string, log: (line: string) => void): Promise<void> {
  await stage('reply from the trained model (the merged output the job wrote)', log, () => {
    const model = path.join(p.workDir, 'jobs', step, 'opt_ml', 'model');
    const proc = spawnSync(p.tools.python, ['-m', 'gpt_oss_train.local_job', 'reply', '--model', model], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: path.join(p.tools.repoRoot, 'training-code') },
    });
    if (proc.status !== 0) throw new Error(`reply failed:\n${proc.stderr}`);
    log(proc.stdout.trimEnd().replace(/^/gm, '    '));
  });
}

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(
    `${e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});

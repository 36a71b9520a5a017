import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { readRecipeSource } from '../../lib/config/load-recipes';
import { PIPELINE_PARAMETERS as P } from '../../lib/pipeline/parameters';
import { applyExecutionParameters, checkExecution, type ParameterValue } from '../../lib/recipes/execute-check';
import { formatFinding } from '../../lib/recipes/findings';
import { CONFIG, goodRecipe, validate, writeRecipe } from './support';

/**
 * An execution's parameters go through the same rules as the recipe (lib/recipes/execute-check.ts): the attacks
 * of issue 13 on the shipped spot recipe, each refused with the file, the key, the parameter and the value.
 */

const SPOT_RECIPE = path.join(__dirname, '..', '..', 'recipes', 'gpt-oss-20b-multilingual-lora.yaml');

function check(parameters: Record<string, ParameterValue>, file = SPOT_RECIPE) {
  const source = readRecipeSource(file);
  return checkExecution(source, parse(source.source) as Record<string, unknown>, parameters, CONFIG);
}

const errors = (parameters: Record<string, ParameterValue>) =>
  check(parameters)
    .findings.filter((f) => f.level === 'error')
    .map(formatFinding);

describe('execution check', () => {
  test('the shipped spot recipe with its own values passes', () => {
    // GIVEN no override WHEN checked THEN no error
    const c = check({});
    expect(c.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(c.valid).toBe(true);
  });

  test('an override within the rules passes and changes what is estimated', () => {
    // GIVEN two epochs instead of one WHEN checked THEN valid, and the run estimate doubles its tokens
    const one = check({});
    const two = check({ [P.numTrainEpochs]: '2' });
    expect(two.valid).toBe(true);
    expect(two.analysis?.run?.trainingTokens).toBe(2 * (one.analysis?.run?.trainingTokens ?? NaN));
  });

  test('--instance-type ml.p3.2xlarge: no bf16, too little memory, and a volume key that does not fit', () => {
    const found = errors({ [P.instanceType]: 'ml.p3.2xlarge' });
    const file = 'recipes/gpt-oss-20b-multilingual-lora.yaml';
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^error ${file}: platform.training.instance_type \\(parameter TrainingInstanceType\\): found "ml.p3.2xlarge"; .*\\[gpu-memory\\]$`,
          ),
        ),
        expect.stringMatching(
          /bf16: found true; ml\.p3\.2xlarge has NVIDIA V100 16GB \(Volta\) GPUs without bf16 support.*\[bf16-unsupported\]$/,
        ),
        expect.stringMatching(
          /ml\.p3\.2xlarge has EBS storage only but the pipeline was built for ml\.p5\.4xlarge \(local NVMe storage\).*\[volume-key\]$/,
        ),
      ]),
    );
  });

  test('--max-runtime 99999 on a spot recipe: the max wait would be below the runtime', () => {
    // GIVEN the deployed MaxWaitSeconds default (28800) with a longer runtime
    const found = errors({ [P.maxRuntimeSeconds]: 99999, [P.maxWaitSeconds]: 28800, [P.useSpot]: true });
    expect(found).toEqual([
      expect.stringMatching(
        /platform\.training\.max_wait_seconds \(parameter MaxWaitSeconds\): found 28800; max wait is below max_runtime_seconds \(99999\).*\[spot-max-wait\]$/,
      ),
    ]);
    // AND a max wait raised with it passes
    expect(errors({ [P.maxRuntimeSeconds]: 99999, [P.maxWaitSeconds]: 199998, [P.useSpot]: true })).toEqual([]);
  });

  test('--instance-count 500 --instance-type ml.p5.48xlarge --max-runtime 2419200: over the stage ceilings', () => {
    const found = errors({
      [P.instanceCount]: 500,
      [P.instanceType]: 'ml.p5.48xlarge',
      [P.maxRuntimeSeconds]: 2419200,
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /instance_count \(parameter TrainingInstanceCount\): found 500; above the stage "dev" ceiling of 4/,
        ),
        expect.stringMatching(
          /max_runtime_seconds \(parameter MaxRuntimeSeconds\): found 2419200; above the stage "dev" ceiling of 259200/,
        ),
      ]),
    );
    // AND a stage that raised its ceilings accepts the count (the other rules still apply)
    const source = readRecipeSource(SPOT_RECIPE);
    const raised = checkExecution(
      source,
      parse(source.source) as Record<string, unknown>,
      { [P.instanceCount]: 500 },
      { ...CONFIG, guardrails: { maxInstanceCount: 100, maxRuntimeSeconds: 259200, trustedImageAccounts: [] } },
    );
    expect(raised.findings.filter((f) => f.rule === 'execution-limits').map(formatFinding)).toEqual([
      expect.stringMatching(/found 500; above the stage "dev" ceiling of 100 instances/),
    ]);
  });

  test('a value of the wrong type is refused, not applied', () => {
    const c = check({ [P.instanceCount]: 'many' });
    expect(c.valid).toBe(false);
    expect(c.findings.map(formatFinding)).toEqual([
      expect.stringMatching(/TrainingInstanceCount: found "many"; expected a number.*\[execution-parameter\]$/),
    ]);
  });

  test('parameters land on their recipe keys and nothing else changes', () => {
    const raw = { lr: 1, platform: { training: { instance_type: 'ml.p5.4xlarge', spot: true } } };
    expect(
      applyExecutionParameters(raw, { [P.instanceType]: 'ml.p5.48xlarge', [P.useSpot]: 'false', [P.maxSteps]: '10' }),
    ).toEqual({ lr: 1, max_steps: 10, platform: { training: { instance_type: 'ml.p5.48xlarge', spot: false } } });
    // the input is not modified
    expect(raw.platform.training.instance_type).toBe('ml.p5.4xlarge');
  });
});

describe('YAML tags', () => {
  test('a !!python/object tag nested in a list is refused with its key path and line', () => {
    // GIVEN the good recipe with a tagged value deep inside
    const text =
      'model_name_or_path: openai/gpt-oss-20b\n' +
      'lora_target_parameters:\n' +
      '  - 7.mlp.experts.gate_up_proj\n' +
      '  - !!python/object/apply:os.system ["touch /tmp/pwned"]\n' +
      'platform:\n  training:\n    instance_type: ml.p5.4xlarge\n';
    const v = validate(text, 'tagged');
    expect(v.valid).toBe(false);
    expect(v.findings.map(formatFinding)).toEqual([
      expect.stringMatching(
        /^error .*tagged\.yaml:4:\d+: lora_target_parameters\[1\]: found !!python\/object\/apply:os\.system \["touch \/tmp\/pwned"\]; YAML tags are not allowed.*\[yaml-tag\]$/,
      ),
    ]);
  });

  test('any explicit tag is refused, also on a platform value', () => {
    const doc = goodRecipe();
    const text = writeRecipe(doc);
    const tagged = fs
      .readFileSync(text, 'utf8')
      .replace('instance_type: ml.p5.4xlarge', 'instance_type: !custom ml.p5.4xlarge');
    const v = validate(tagged, 'custom-tag');
    expect(v.findings.map((f) => `${f.rule} ${f.keyPath}`)).toEqual(['yaml-tag platform.training.instance_type']);
  });
});

import { buildTrainingPipeline, definitionSteps, resolveExpressions } from '../../lib/pipeline';
import { formatInvalid, validateRequests, type BotocoreRequest } from '../support/botocore-shapes';
import { BUILD_OPTIONS as OPTIONS, DEPLOY_VALUES, fixtureRecipe, type Obj, stepArgs } from './support';

/**
 * The training steps of the built definitions, resolved as SageMaker would for an execution, checked against
 * botocore's CreateTrainingJob model: every request is valid, and a broken one is reported.
 */

describe('training step arguments against the botocore CreateTrainingJob model', () => {
  const cases: { recipe: string; label: string; parameters: Record<string, string | number | boolean> }[] = [
    { recipe: 'sft-lora-20b', label: 'defaults', parameters: {} },
    {
      recipe: 'sft-lora-20b',
      label: 'overrides',
      parameters: { TrainingInstanceType: 'ml.p4de.24xlarge', TrainingInstanceCount: 2, MaxSteps: 100, UseSpot: false },
    },
    { recipe: 'minimal-120b', label: 'defaults', parameters: {} },
  ];

  test('every Training step, resolved, is a valid CreateTrainingJob request', () => {
    // GIVEN each recipe's definition resolved with defaults and with overrides.
    const requests: BotocoreRequest[] = [];
    for (const c of cases) {
      const definition = buildTrainingPipeline(fixtureRecipe(c.recipe), DEPLOY_VALUES, OPTIONS).toJson();
      for (const step of definitionSteps(definition).filter((s) => s.type === 'Training')) {
        const resolved = resolveExpressions(step.arguments, definition, { parameters: c.parameters }) as Obj;
        // pipelines add the job name; the rest is exactly what the step sends.
        requests.push({
          service: 'sagemaker',
          operation: 'CreateTrainingJob',
          params: { TrainingJobName: `pipelines-abcdef123456-${step.name}-x1y2z3`, ...resolved },
          label: `${c.recipe} ${c.label} ${step.name}`,
        });
      }
    }
    // WHEN validated THEN botocore's ParamValidator and the model's constraints accept every request.
    expect(requests).toHaveLength(6);
    expect(formatInvalid(validateRequests(requests))).toBe('');
  });

  test('fails when a step argument breaks the model (the check can fail)', () => {
    // GIVEN a resolved step with a warm pool above SageMaker's 6-hour maximum.
    const definition = buildTrainingPipeline(fixtureRecipe('sft-lora-20b'), DEPLOY_VALUES, OPTIONS).toJson();
    const args = resolveExpressions(stepArgs(definition, 'TrainOnDemand'), definition) as Obj;
    const broken = { ...args, ResourceConfig: { ...(args.ResourceConfig as Obj), KeepAlivePeriodInSeconds: 99999 } };
    // WHEN validated THEN the violation is reported.
    const [result] = validateRequests([
      { service: 'sagemaker', operation: 'CreateTrainingJob', params: { TrainingJobName: 'j', ...broken } },
    ]);
    expect(result.constraints.join('\n')).toMatch(/KeepAlivePeriodInSeconds: value 99999 exceeds the maximum 21600/);
  });
});

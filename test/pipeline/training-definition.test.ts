import {
  buildTrainingPipeline,
  definitionSteps,
  type Json,
  parameterDefaults,
  PIPELINE_PARAMETER_TYPES,
  PIPELINE_PARAMETERS,
  PIPELINE_STEPS,
  resolveExpressions,
  TRAINING_STEP_NAMES,
} from '../../lib/pipeline';
import { BUILD_OPTIONS as OPTIONS, DEPLOY_VALUES, fixtureRecipe, type Obj, stepArgs, TEST_METRICS } from './support';

describe('recipe pipeline definition', () => {
  const recipe = fixtureRecipe('sft-lora-20b');
  const definition = buildTrainingPipeline(recipe, DEPLOY_VALUES, OPTIONS).toJson();

  test('declares the Execute-form parameters, pre-filled from the recipe', () => {
    // GIVEN the LoRA recipe (p5.48xlarge, spot, 1 epoch) WHEN built THEN each parameter carries the recipe value.
    expect(parameterDefaults(definition)).toEqual({
      [PIPELINE_PARAMETERS.instanceType]: 'ml.p5.48xlarge',
      [PIPELINE_PARAMETERS.instanceCount]: 1,
      [PIPELINE_PARAMETERS.datasetS3Uri]: `s3://${DEPLOY_VALUES.datasetsBucketName}/datasets/sft-lora-20b/`,
      // where stage-model puts the recipe's model_name_or_path at its model_revision (TRL's default "main")
      [PIPELINE_PARAMETERS.baseModelS3Uri]: `s3://${DEPLOY_VALUES.artifactsBucketName}/base-models/openai/gpt-oss-20b/main/`,
      [PIPELINE_PARAMETERS.maxRuntimeSeconds]: 86400,
      [PIPELINE_PARAMETERS.useSpot]: true,
      [PIPELINE_PARAMETERS.maxWaitSeconds]: 172800,
      [PIPELINE_PARAMETERS.numTrainEpochs]: 1,
      [PIPELINE_PARAMETERS.maxSteps]: -1,
    });
    const types = Object.fromEntries(
      ((definition as Obj).Parameters as Obj[]).map((p) => [p.Name as string, p.Type as string]),
    );
    expect(types).toEqual({
      TrainingInstanceType: 'String',
      TrainingInstanceCount: 'Integer',
      DatasetS3Uri: 'String',
      BaseModelS3Uri: 'String',
      MaxRuntimeSeconds: 'Integer',
      UseSpot: 'Boolean',
      MaxWaitSeconds: 'Integer',
      NumTrainEpochs: 'Float',
      MaxSteps: 'Integer',
    });
    // AND the exported contract the CLI imports says the same, name by name
    expect(
      Object.fromEntries(
        Object.entries(PIPELINE_PARAMETERS).map(([key, name]) => [
          name,
          PIPELINE_PARAMETER_TYPES[key as keyof typeof PIPELINE_PARAMETERS],
        ]),
      ),
    ).toEqual(types);
  });

  test('switches capacity with a condition on UseSpot between a spot and an on-demand training step', () => {
    // GIVEN the definition WHEN the capacity step is read THEN UseSpot chooses TrainSpot, else TrainOnDemand.
    const capacity = (definition as Obj).Steps as Obj[];
    expect(capacity[0]).toMatchObject({
      Name: PIPELINE_STEPS.capacity,
      Type: 'Condition',
      Arguments: {
        Conditions: [{ Type: 'Equals', LeftValue: { Get: 'Parameters.UseSpot' }, RightValue: true }],
        IfSteps: [expect.objectContaining({ Name: 'TrainSpot', Type: 'Training' })],
        ElseSteps: [expect.objectContaining({ Name: 'TrainOnDemand', Type: 'Training' })],
      },
    });
    // AND only the spot step sets spot, MaxWaitTimeInSeconds; only the on-demand one keeps a warm pool.
    const spot = stepArgs(definition, 'TrainSpot');
    const onDemand = stepArgs(definition, 'TrainOnDemand');
    expect(spot.EnableManagedSpotTraining).toBe(true);
    expect(spot.StoppingCondition).toEqual({
      MaxRuntimeInSeconds: { Get: 'Parameters.MaxRuntimeSeconds' },
      MaxWaitTimeInSeconds: { Get: 'Parameters.MaxWaitSeconds' },
    });
    expect(spot.ResourceConfig).not.toHaveProperty('KeepAlivePeriodInSeconds');
    expect(onDemand.EnableManagedSpotTraining).toBe(false);
    expect(onDemand.StoppingCondition).toEqual({ MaxRuntimeInSeconds: { Get: 'Parameters.MaxRuntimeSeconds' } });
    expect(onDemand.ResourceConfig).toMatchObject({ KeepAlivePeriodInSeconds: 600 });
    expect(TRAINING_STEP_NAMES).toEqual(['TrainSpot', 'TrainOnDemand']);
  });

  test('follows the training-job contract: channels, entrypoint, hyperparameters, environment, output', () => {
    // GIVEN the spot training step WHEN its arguments are read THEN they match the contract.
    const args = stepArgs(definition, 'TrainSpot');
    expect(args.AlgorithmSpecification).toMatchObject({
      TrainingImage: DEPLOY_VALUES.defaultImageUri,
      TrainingInputMode: 'File',
      ContainerEntrypoint: ['python3', '/opt/ml/input/data/code/launch.py'],
      MetricDefinitions: TEST_METRICS,
    });
    expect((args.InputDataConfig as Obj[]).map((c) => [c.ChannelName, (c.DataSource as Obj).S3DataSource])).toEqual([
      ['code', { S3DataType: 'S3Prefix', S3Uri: DEPLOY_VALUES.codeS3Uri, S3DataDistributionType: 'FullyReplicated' }],
      [
        'recipe',
        {
          S3DataType: 'S3Prefix',
          S3Uri: `s3://${DEPLOY_VALUES.artifactsBucketName}/code/recipes/sft-lora-20b/${recipe.hash}/`,
          S3DataDistributionType: 'FullyReplicated',
        },
      ],
      [
        'training',
        {
          S3DataType: 'S3Prefix',
          S3Uri: { Get: 'Parameters.DatasetS3Uri' },
          S3DataDistributionType: 'FullyReplicated',
        },
      ],
      [
        'model',
        {
          S3DataType: 'S3Prefix',
          S3Uri: { Get: 'Parameters.BaseModelS3Uri' },
          S3DataDistributionType: 'FullyReplicated',
        },
      ],
    ]);
    expect(args.HyperParameters).toEqual({
      num_train_epochs: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.NumTrainEpochs' }] } },
      max_steps: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.MaxSteps' }] } },
    });
    expect(args.Environment).toEqual({
      MLFLOW_TRACKING_ARN: DEPLOY_VALUES.mlflowTrackingArn,
      MLFLOW_EXPERIMENT_NAME: 'sft-lora-20b',
      RECIPE_NAME: 'sft-lora-20b',
      RECIPE_HASH: recipe.hash,
      GIT_SHA: OPTIONS.gitSha,
      DATASET_URI: { Get: 'Parameters.DatasetS3Uri' },
      GPT_OSS_MODEL_SOURCE: 'channel',
      HF_HUB_OFFLINE: '1',
      HF_DATASETS_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
    });
    expect(args.OutputDataConfig).toEqual({
      S3OutputPath: `s3://${DEPLOY_VALUES.artifactsBucketName}/models/sft-lora-20b/`,
      KmsKeyId: DEPLOY_VALUES.kmsKeyArn,
      CompressionType: 'NONE',
    });
    expect(args.VpcConfig).toEqual({
      SecurityGroupIds: DEPLOY_VALUES.securityGroupIds,
      Subnets: DEPLOY_VALUES.subnetIds,
    });
    expect(args.RetryStrategy).toEqual({ MaximumRetryAttempts: 2 });
  });

  test('both training steps read the base model from the model channel, whose URI is the BaseModelS3Uri value', () => {
    // GIVEN an execution that overrides BaseModelS3Uri
    const staged = 's3://other-bucket/base-models/openai/gpt-oss-20b/0123abcd/';
    for (const name of TRAINING_STEP_NAMES) {
      const channels = stepArgs(definition, name).InputDataConfig as Obj[];
      const model = channels.find((c) => c.ChannelName === 'model') ?? {};
      // WHEN the channel is resolved THEN it points at the value given, and at the staged default otherwise
      expect(resolveExpressions(model, definition, { parameters: { BaseModelS3Uri: staged } })).toMatchObject({
        DataSource: { S3DataSource: { S3Uri: staged } },
        InputMode: 'File',
      });
      expect(resolveExpressions(model, definition)).toMatchObject({
        DataSource: {
          S3DataSource: { S3Uri: `s3://${DEPLOY_VALUES.artifactsBucketName}/base-models/openai/gpt-oss-20b/main/` },
        },
      });
      // AND the job never waits on the Hub
      expect(stepArgs(definition, name).Environment).toMatchObject({
        HF_HUB_OFFLINE: '1',
        HF_DATASETS_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        GPT_OSS_MODEL_SOURCE: 'channel',
      });
    }
  });

  test('with internet egress the jobs read the Hub: no BaseModelS3Uri, no model channel, the Hub online', () => {
    // GIVEN the same recipe built for a VPC with NAT
    const online = buildTrainingPipeline(recipe, DEPLOY_VALUES, { ...OPTIONS, baseModelSource: 'hub' }).toJson();
    // THEN no parameter or channel asks for a staged copy, and no offline switch is set
    expect(Object.keys(parameterDefaults(online))).not.toContain(PIPELINE_PARAMETERS.baseModelS3Uri);
    for (const name of TRAINING_STEP_NAMES) {
      const args = stepArgs(online, name);
      expect((args.InputDataConfig as Obj[]).map((c) => c.ChannelName)).toEqual(['code', 'recipe', 'training']);
      expect(args.Environment).toMatchObject({ GPT_OSS_MODEL_SOURCE: 'hub' });
      expect(Object.keys(args.Environment as Obj).filter((k) => k.endsWith('_OFFLINE'))).toEqual([]);
    }
  });

  test('the staged default follows the recipe model_revision; a model path is refused by the recipe rule, not here', () => {
    const withKeys = (keys: Record<string, unknown>) => ({ ...recipe, document: { ...recipe.document, ...keys } });
    const pinned = withKeys({ model_revision: 'v1.0' });
    expect(parameterDefaults(buildTrainingPipeline(pinned, DEPLOY_VALUES, OPTIONS).toJson())).toMatchObject({
      BaseModelS3Uri: `s3://${DEPLOY_VALUES.artifactsBucketName}/base-models/openai/gpt-oss-20b/v1.0/`,
    });
    const local = withKeys({ model_name_or_path: '/data/gpt-oss-20b' });
    expect(() => buildTrainingPipeline(local, DEPLOY_VALUES, OPTIONS)).toThrow(
      /sft-lora-20b\.yaml: model_name_or_path: found "\/data\/gpt-oss-20b", not a Hub id \(rule base-model-source\)/,
    );
  });

  test('checkpoints go to a per-execution prefix so a new execution never resumes an old run', () => {
    // GIVEN the spot step WHEN its checkpoint config is resolved for an execution THEN the id is in the path.
    const resolved = resolveExpressions(stepArgs(definition, 'TrainSpot').CheckpointConfig, definition, {
      execution: { PipelineExecutionId: 'exec42' },
    });
    expect(resolved).toEqual({
      S3Uri: `s3://${DEPLOY_VALUES.artifactsBucketName}/checkpoints/sft-lora-20b/exec42/`,
      LocalPath: '/opt/ml/checkpoints',
    });
  });

  test('retries capacity errors at step level', () => {
    // GIVEN the training steps WHEN their envelopes are read THEN each has a CAPACITY_ERROR retry policy.
    const nested = ((definition as Obj).Steps as Obj[])[0].Arguments as Obj;
    for (const step of [...(nested.IfSteps as Obj[]), ...(nested.ElseSteps as Obj[])]) {
      expect(step.RetryPolicies).toEqual([
        { ExceptionType: ['SageMaker.CAPACITY_ERROR'], IntervalSeconds: 300, BackoffRate: 2, MaxAttempts: 5 },
      ]);
    }
  });

  test('gates on the final eval_loss with a Fail step naming value and threshold', () => {
    // GIVEN the recipe threshold 1.5 WHEN the gate of the spot branch is read.
    const gate = ((definition as Obj).Steps as Obj[]).find((s) => s.Name === PIPELINE_STEPS.gateSpot) as Obj;
    const loss = { Get: "Steps.TrainSpot.FinalMetricDataList['eval_loss'].Value" };
    // THEN it compares the metric to the threshold and fails with a message holding both.
    expect(gate.Arguments).toEqual({
      Conditions: [{ Type: 'LessThanOrEqualTo', LeftValue: loss, RightValue: 1.5 }],
      IfSteps: [],
      ElseSteps: [
        expect.objectContaining({
          Name: PIPELINE_STEPS.failSpot,
          Type: 'Fail',
          Arguments: {
            ErrorMessage: {
              'Std:Join': {
                On: '',
                Values: [
                  'final eval_loss ',
                  loss,
                  ' is above the quality gate max_eval_loss ',
                  '1.5',
                  ' (test/pipeline/fixtures/sft-lora-20b.yaml: platform.quality_gate.max_eval_loss); the model is not registered',
                ],
              },
            },
          },
        }),
      ],
    });
    // AND the message reads as a sentence once the metric is known.
    const message = resolveExpressions(((gate.Arguments as Obj).ElseSteps as Obj[])[0].Arguments as Obj, definition, {
      steps: { [loss.Get]: 2.25 },
    });
    expect((message as Obj).ErrorMessage).toMatch(/^final eval_loss 2.25 is above the quality gate max_eval_loss 1.5 /);
    // AND the on-demand branch has its own gate.
    expect(definitionSteps(definition).map((s) => s.name)).toEqual([
      'SpotOrOnDemand',
      'TrainSpot',
      'TrainOnDemand',
      'QualityGateSpot',
      'EvalLossTooHighSpot',
      'QualityGateOnDemand',
      'EvalLossTooHighOnDemand',
    ]);
  });

  test('every Get points at a declared parameter, an existing step or an execution variable', () => {
    // GIVEN the rendered JSON (independently of the builder's own check) WHEN every Get is collected.
    const params = new Set(Object.keys(parameterDefaults(definition)));
    const steps = new Set(definitionSteps(definition).map((s) => s.name));
    const gets: string[] = [];
    const walk = (v: Json): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        if (typeof v.Get === 'string') gets.push(v.Get);
        Object.values(v).forEach(walk);
      }
    };
    walk(definition);
    // THEN each one resolves.
    expect(gets.length).toBeGreaterThan(10);
    for (const get of gets) {
      const [kind, name] = get.split('.');
      if (kind === 'Parameters') expect(params).toContain(name);
      else if (kind === 'Steps') expect(steps).toContain(name);
      else expect(get).toMatch(/^Execution\.(PipelineExecutionId)$/);
    }
  });

  test('is byte-identical when built twice', () => {
    // GIVEN the same recipe and values WHEN built twice THEN the files are equal.
    const again = buildTrainingPipeline(fixtureRecipe('sft-lora-20b'), DEPLOY_VALUES, OPTIONS).render();
    expect(again).toBe(buildTrainingPipeline(recipe, DEPLOY_VALUES, OPTIONS).render());
  });

  test('omits VolumeKmsKeyId on instances with local NVMe storage and sets it otherwise', () => {
    // GIVEN a p5 recipe and a p3.16xlarge recipe (no instance storage).
    const p3 = buildTrainingPipeline(fixtureRecipe('minimal-120b'), DEPLOY_VALUES, OPTIONS).toJson();
    // THEN only the EBS-only instance type gets the KMS key on its volume.
    expect(stepArgs(definition, 'TrainSpot').ResourceConfig).not.toHaveProperty('VolumeKmsKeyId');
    expect(stepArgs(p3, 'TrainSpot').ResourceConfig).toMatchObject({ VolumeKmsKeyId: DEPLOY_VALUES.kmsKeyArn });
  });

  test('uses the recipe dataset location and defaults, and skips the gate when the recipe has none', () => {
    // GIVEN the minimal recipe WHEN built.
    const minimal = buildTrainingPipeline(fixtureRecipe('minimal-120b'), DEPLOY_VALUES, OPTIONS).toJson();
    // THEN TRL's defaults fill epochs/steps, spot is off, and there is no quality gate.
    expect(parameterDefaults(minimal)).toMatchObject({
      DatasetS3Uri: 's3://shared-datasets-bucket/chat/v3/',
      UseSpot: false,
      NumTrainEpochs: 3,
      MaxSteps: -1,
    });
    expect(definitionSteps(minimal).map((s) => s.name)).toEqual(['SpotOrOnDemand', 'TrainSpot', 'TrainOnDemand']);
  });

  test('fails when the gate metric is not among the metric definitions', () => {
    // GIVEN metric definitions without eval_loss WHEN a gated recipe is built THEN the error names the metric.
    expect(() =>
      buildTrainingPipeline(recipe, DEPLOY_VALUES, { ...OPTIONS, metricDefinitions: [TEST_METRICS[0]] }),
    ).toThrow(/reports no metric "eval_loss"; its MetricDefinitions are: train_loss/);
  });

  test("MaxWaitSeconds defaults to the recipe's max wait, else twice the max runtime", () => {
    // GIVEN the fixture without max_wait_seconds, and with one (the recipe check keeps it >= max runtime).
    const base = fixtureRecipe('sft-lora-20b');
    const training = base.document.platform.training;
    const withWait = {
      ...base,
      document: {
        ...base.document,
        platform: { ...base.document.platform, training: { ...training, max_wait_seconds: 90000 } },
      },
    };
    const maxWaitDefault = (r: typeof base) =>
      ((buildTrainingPipeline(r, DEPLOY_VALUES, OPTIONS).toJson() as Obj).Parameters as Obj[]).find(
        (p) => p.Name === 'MaxWaitSeconds',
      )?.DefaultValue;
    // WHEN built THEN the parameter default is what a spot execution waits.
    expect(maxWaitDefault(base)).toBe(2 * training.max_runtime_seconds);
    expect(maxWaitDefault(withWait)).toBe(90000);
  });
});

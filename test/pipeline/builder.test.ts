import {
  Condition,
  ConditionStep,
  ExecutionVariable,
  FailStep,
  Join,
  Parameter,
  PipelineDefinition,
  resolveExpressions,
  TrainingStep,
  type TrainingJobArguments,
} from '../../lib/pipeline';

const trainingArgs = (instanceType: Parameter<'String'>): TrainingJobArguments => ({
  AlgorithmSpecification: {
    TrainingImage: 'image:1',
    TrainingInputMode: 'File',
    MetricDefinitions: [{ Name: 'eval_loss', Regex: 'eval_loss=([0-9.]+)' }],
  },
  RoleArn: 'arn:aws:iam::123456789012:role/r',
  OutputDataConfig: { S3OutputPath: 's3://b/out/' },
  ResourceConfig: { InstanceType: instanceType, InstanceCount: 1, VolumeSizeInGB: 100 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
});

describe('pipeline expressions', () => {
  test('parameters render as declarations and Get expressions', () => {
    // GIVEN one parameter of each type.
    const s = Parameter.string('InstanceType', { defaultValue: 'ml.p5.48xlarge', description: 'type' });
    const i = Parameter.integer('Count', { defaultValue: 2 });
    const f = Parameter.float('Epochs', { defaultValue: 1.5 });
    const b = Parameter.boolean('UseSpot', { defaultValue: false });
    // WHEN rendered THEN declarations carry type and default, and references are Get expressions.
    expect(s.toDeclaration()).toEqual({
      Name: 'InstanceType',
      Type: 'String',
      DefaultValue: 'ml.p5.48xlarge',
      Description: 'type',
    });
    expect(i.toDeclaration()).toEqual({ Name: 'Count', Type: 'Integer', DefaultValue: 2 });
    expect(f.toJson()).toEqual({ Get: 'Parameters.Epochs' });
    expect(b.toDeclaration()).toEqual({ Name: 'UseSpot', Type: 'Boolean', DefaultValue: false });
  });

  test('a non-string parameter used as a string becomes a one-value Std:Join', () => {
    // GIVEN an Integer parameter WHEN rendered as a string THEN it is wrapped in Std:Join.
    const steps = Parameter.integer('MaxSteps', { defaultValue: -1 });
    expect(steps.asString().toJson()).toEqual({ 'Std:Join': { On: '', Values: [{ Get: 'Parameters.MaxSteps' }] } });
    // AND a String parameter stays itself.
    const s = Parameter.string('S', { defaultValue: 'x' });
    expect(s.asString()).toBe(s);
  });

  test('fails a parameter with a bad name or a fractional integer default', () => {
    // GIVEN bad inputs WHEN constructing THEN the error says what is wrong.
    expect(() => Parameter.string('has space', { defaultValue: '' })).toThrow(/must be 1-64 letters/);
    expect(() => Parameter.integer('Count', { defaultValue: 1.5 })).toThrow(/not a whole number/);
    expect(() => Parameter.float('F', { defaultValue: Number.NaN })).toThrow(/not a finite number/);
  });

  test('Join renders literals and expressions in order', () => {
    // GIVEN a join of a literal and an execution variable WHEN rendered THEN both appear in order.
    const j = Join.of('/', ['s3://bucket/checkpoints', ExecutionVariable.PIPELINE_EXECUTION_ID]);
    expect(j.toJson()).toEqual({
      'Std:Join': { On: '/', Values: ['s3://bucket/checkpoints', { Get: 'Execution.PipelineExecutionId' }] },
    });
  });
});

describe('pipeline definition checks', () => {
  test('renders Version, Parameters and Steps, with condition branches nested in full', () => {
    // GIVEN a parameter, a training step and a gate with a fail branch.
    const type = Parameter.string('TrainingInstanceType', { defaultValue: 'ml.p5.48xlarge' });
    const train = new TrainingStep('Train', trainingArgs(type));
    const loss = train.finalMetricValue('eval_loss');
    const gate = new ConditionStep('Gate', {
      conditions: [Condition.lessThanOrEqualTo(loss, 1.5)],
      elseSteps: [new FailStep('TooHigh', Join.of('', ['eval_loss ', loss, ' > 1.5']))],
    });
    // WHEN rendered.
    const json = new PipelineDefinition({ parameters: [type], steps: [train, gate] }).toJson() as Record<
      string,
      unknown
    >;
    // THEN the gate refers to the metric by property path and nests the Fail step.
    expect(json.Version).toBe('2020-12-01');
    expect(json.Steps).toEqual([
      expect.objectContaining({ Name: 'Train', Type: 'Training' }),
      {
        Name: 'Gate',
        Type: 'Condition',
        Arguments: {
          Conditions: [
            {
              Type: 'LessThanOrEqualTo',
              LeftValue: { Get: "Steps.Train.FinalMetricDataList['eval_loss'].Value" },
              RightValue: 1.5,
            },
          ],
          IfSteps: [],
          ElseSteps: [
            {
              Name: 'TooHigh',
              Type: 'Fail',
              Arguments: {
                ErrorMessage: {
                  'Std:Join': {
                    On: '',
                    Values: ['eval_loss ', { Get: "Steps.Train.FinalMetricDataList['eval_loss'].Value" }, ' > 1.5'],
                  },
                },
              },
            },
          ],
        },
      },
    ]);
  });

  test('fails a step that uses an undeclared parameter', () => {
    // GIVEN a step using a parameter that is not in the parameter list.
    const type = Parameter.string('TrainingInstanceType', { defaultValue: 'ml.p5.48xlarge' });
    // WHEN the definition is built THEN the error names the step and parameter.
    expect(
      () => new PipelineDefinition({ parameters: [], steps: [new TrainingStep('Train', trainingArgs(type))] }),
    ).toThrow(/step Train uses Parameters.TrainingInstanceType, which is not declared/);
  });

  test('fails a property reference to a step that is not in the pipeline', () => {
    // GIVEN a gate reading the metric of a training step that was never added.
    const type = Parameter.string('T', { defaultValue: 'ml.p5.48xlarge' });
    const orphan = new TrainingStep('Orphan', trainingArgs(type));
    const gate = new ConditionStep('Gate', {
      conditions: [Condition.lessThan(orphan.finalMetricValue('eval_loss'), 2)],
      elseSteps: [new FailStep('Fail', 'too high')],
    });
    // WHEN built THEN the dangling reference is reported.
    expect(() => new PipelineDefinition({ parameters: [type], steps: [gate] })).toThrow(
      /step Gate uses Steps.Orphan.FinalMetricDataList\['eval_loss'\].Value, but there is no step Orphan/,
    );
  });

  test('fails duplicate step names, also across condition branches', () => {
    // GIVEN two steps named Fail, one nested.
    const gate = new ConditionStep('Gate', {
      conditions: [Condition.equals(Parameter.boolean('B', { defaultValue: true }), true)],
      elseSteps: [new FailStep('Fail', 'x')],
    });
    // WHEN built THEN the duplicate is named.
    expect(
      () =>
        new PipelineDefinition({
          parameters: [Parameter.boolean('B', { defaultValue: true })],
          steps: [gate, new FailStep('Fail', 'y')],
        }),
    ).toThrow(/step name "Fail" is used twice/);
  });

  test('fails duplicate parameters and DependsOn a missing step', () => {
    // GIVEN a duplicate parameter and a step depending on one outside the pipeline.
    const a = Parameter.string('A', { defaultValue: 'x' });
    const outside = new FailStep('Outside', 'x');
    const step = new FailStep('Inside', a, { dependsOn: [outside] });
    // WHEN built THEN both problems are listed at once.
    const build = () =>
      new PipelineDefinition({ parameters: [a, Parameter.string('A', { defaultValue: 'y' })], steps: [step] });
    expect(build).toThrow(/parameter "A" is declared twice/);
    expect(build).toThrow(/step Inside depends on "Outside", which is not in the pipeline/);
  });

  test('fails a metric property for a metric the step does not define', () => {
    // GIVEN a training step reporting only eval_loss WHEN asked for train_loss THEN it names the known metrics.
    const step = new TrainingStep('Train', trainingArgs(Parameter.string('T', { defaultValue: 'x' })));
    expect(() => step.finalMetricValue('train_loss')).toThrow(
      /reports no metric "train_loss"; its MetricDefinitions are: eval_loss/,
    );
  });

  test('fails an input channel defined twice', () => {
    // GIVEN two channels named model WHEN the step is built THEN it names the channel
    const channel = (uri: string) => ({
      ChannelName: 'model',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri } },
    });
    const args = {
      ...trainingArgs(Parameter.string('T', { defaultValue: 'x' })),
      InputDataConfig: [channel('s3://b/a/'), channel('s3://b/b/')],
    };
    expect(() => new TrainingStep('Train', args)).toThrow('step Train: input channel "model" is defined twice');
  });

  test('fails a condition between two literals and an empty condition step', () => {
    // GIVEN constant comparisons WHEN built THEN they are rejected.
    expect(() => Condition.equals(1, 1)).toThrow(/constant/);
    expect(() => new ConditionStep('C', { conditions: [], elseSteps: [new FailStep('F', 'x')] })).toThrow(
      /no conditions/,
    );
  });

  test('fails a step name SageMaker would reject', () => {
    // GIVEN a name with a dot WHEN constructing THEN the allowed characters are named.
    expect(() => new FailStep('bad.name', 'x')).toThrow(/must be 1-64 letters, digits/);
  });
});

describe('resolving expressions', () => {
  const count = Parameter.integer('Count', { defaultValue: 2 });
  const train = new TrainingStep('Train', {
    ...trainingArgs(Parameter.string('T', { defaultValue: 'ml.p5.48xlarge' })),
    HyperParameters: { count: count.asString() },
  });
  const definition = new PipelineDefinition({
    parameters: [count, Parameter.string('T', { defaultValue: 'ml.p5.48xlarge' })],
    steps: [train],
  }).toJson();

  test('uses defaults, overrides and Std:Join like SageMaker', () => {
    // GIVEN the rendered step arguments WHEN resolved with and without an override.
    const args = (definition as { Steps: { Arguments: never }[] }).Steps[0].Arguments;
    const byDefault = resolveExpressions(args, definition) as Record<string, Record<string, unknown>>;
    const overridden = resolveExpressions(args, definition, { parameters: { Count: 8 } }) as Record<
      string,
      Record<string, unknown>
    >;
    // THEN parameters become values and the join becomes a string.
    expect(byDefault.ResourceConfig.InstanceType).toBe('ml.p5.48xlarge');
    expect(byDefault.HyperParameters).toEqual({ count: '2' });
    expect(overridden.HyperParameters).toEqual({ count: '8' });
  });

  test('fails a step property without a supplied value', () => {
    // GIVEN a step property WHEN resolved without a value THEN it says values are only known at run time.
    expect(() => resolveExpressions({ Get: "Steps.Train.FinalMetricDataList['eval_loss'].Value" }, definition)).toThrow(
      /only known at run time/,
    );
    expect(
      resolveExpressions({ Get: "Steps.Train.FinalMetricDataList['eval_loss'].Value" }, definition, {
        steps: { "Steps.Train.FinalMetricDataList['eval_loss'].Value": 1.2 },
      }),
    ).toBe(1.2);
  });
});

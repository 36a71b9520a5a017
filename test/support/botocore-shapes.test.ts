import { errorsOf, formatInvalid, validateRequest, validateRequests } from './botocore-shapes';

const minimalTrainingJob = {
  TrainingJobName: 'job-1',
  AlgorithmSpecification: {
    TrainingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1',
    TrainingInputMode: 'File',
  },
  RoleArn: 'arn:aws:iam::123456789012:role/training',
  OutputDataConfig: { S3OutputPath: 's3://bucket/out/' },
  ResourceConfig: { InstanceType: 'ml.p5.48xlarge', InstanceCount: 1, VolumeSizeInGB: 100 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
};

describe('botocore request validation', () => {
  test('accepts a minimal valid CreateTrainingJob request', () => {
    // GIVEN a request with every required member WHEN validated THEN there are no errors.
    const result = validateRequest('sagemaker', 'CreateTrainingJob', minimalTrainingJob);
    expect(errorsOf(result)).toEqual([]);
  });

  test('fails a request with an unknown member, a missing required member and a wrong type (ParamValidator)', () => {
    // GIVEN a request with a typo, a missing RoleArn and a string count.
    const { RoleArn: _omit, ...rest } = minimalTrainingJob;
    void _omit;
    const params = { ...rest, ResourceConfg: {}, ResourceConfig: { ...rest.ResourceConfig, InstanceCount: '1' } };
    // WHEN validated.
    const result = validateRequest('sagemaker', 'CreateTrainingJob', params);
    // THEN botocore's own validator names each problem.
    expect(result.paramValidator.join('\n')).toMatch(/Missing required parameter in input: "RoleArn"/);
    expect(result.paramValidator.join('\n')).toMatch(/Unknown parameter in input: "ResourceConfg"/);
    expect(result.paramValidator.join('\n')).toMatch(/ResourceConfig.InstanceCount/);
  });

  test('fails enum, maximum and pattern violations (model constraints)', () => {
    // GIVEN a bad input mode, a warm pool above 6 hours and a job name with an underscore.
    const params = {
      ...minimalTrainingJob,
      TrainingJobName: 'bad_name',
      AlgorithmSpecification: { ...minimalTrainingJob.AlgorithmSpecification, TrainingInputMode: 'Files' },
      ResourceConfig: { ...minimalTrainingJob.ResourceConfig, KeepAlivePeriodInSeconds: 21601 },
    };
    // WHEN validated.
    const result = validateRequest('sagemaker', 'createTrainingJob', params);
    // THEN each constraint is reported with the offending key.
    expect(result.paramValidator).toEqual([]);
    expect(result.constraints).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AlgorithmSpecification.TrainingInputMode: 'Files' is not one of/),
        expect.stringMatching(/^ResourceConfig.KeepAlivePeriodInSeconds: value 21601 exceeds the maximum 21600/),
        expect.stringMatching(/^TrainingJobName: 'bad_name' does not match pattern/),
      ]),
    );
  });

  test('fails an unknown operation or service with a setup error', () => {
    // GIVEN two requests naming nothing botocore knows WHEN validated in one batch THEN both say why.
    const [op, svc] = validateRequests([
      { service: 'sagemaker', operation: 'CreateTrainingJobb', params: {} },
      { service: 'sagemakr', operation: 'CreateTrainingJob', params: {} },
    ]);
    expect(op.setupError).toMatch(/no operation 'CreateTrainingJobb'/);
    expect(svc.setupError).toMatch(/no service 'sagemakr'/);
    expect(formatInvalid([op, svc])).toMatch(/sagemaker:CreateTrainingJobb:\n {2}- service/);
  });

  test('validates other services too (Step Functions StartExecution)', () => {
    // GIVEN a valid and an invalid StartExecution WHEN validated THEN only the invalid one has errors.
    const [ok, bad] = validateRequests([
      {
        service: 'stepfunctions',
        operation: 'StartExecution',
        params: { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:deploy', input: '{}' },
      },
      { service: 'stepfunctions', operation: 'StartExecution', params: { input: 42 }, label: 'bad start' },
    ]);
    expect(errorsOf(ok)).toEqual([]);
    expect(bad.label).toBe('bad start');
    expect(errorsOf(bad).join('\n')).toMatch(/stateMachineArn/);
  });
});

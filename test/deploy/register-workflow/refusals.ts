import { expectFailedWith, expectStatus } from '../../support/sfn-local';
import {
  createGroup,
  createNotificationInbox,
  createPipelineTrainingJob,
  IMPORTED,
  pipelineSucceededEvent,
} from '../support';
import { GROUP, PIPELINE, type RegisterWorkflow, sageMakerFaithfulDescribe, stepsOf } from './harness';

/**
 * REGISTER scenarios that create no package: a job output that breaks the training-job or registry contract, an
 * execution without a training job or with one SageMaker cannot describe, a pipeline of no recipe, and recipe
 * settings that cannot be read.
 */
export function refusalTests(wf: RegisterWorkflow): void {
  const { register, packagesIn } = wf;

  test('fails with a notice when the training output is compressed, and creates no package', async () => {
    // GIVEN a job that broke the training-job contract (GZIP output)
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-gzip00000001-train-dddddddddd', {
      compression: 'GZIP',
    });

    // WHEN registered
    const result = await register(pipelineSucceededEvent(PIPELINE, 'gzip00000001'), {
      'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
    });

    // THEN the execution fails, names the problem, and nothing was registered
    expectFailedWith(result, 'CompressedModelOutput');
    expect(await packagesIn(GROUP)).toHaveLength(0);
    const [notice] = await inbox.read();
    expect(notice.subject).toBe(`Registration failed for pipeline ${PIPELINE}`);
    expect(notice.message).toContain('failed at step "Describe training job": CompressedModelOutput');
  });

  test.each([
    [
      "a model prefix outside models/<recipe>/ (another recipe's output)",
      { outputPath: `s3://${IMPORTED.bucketName}/models/other-recipe` },
      'ModelOutsidePlatformPrefix',
    ],
    ['no model files', { modelFiles: null }, 'NoModelFiles'],
    [
      'a file two directories deep',
      { modelFiles: { 'config.json': '{}', 'sub/dir/extra.bin': 'x' } },
      'NestedModelFile',
    ],
  ] as const)('refuses to register %s: no package, nothing in the registry', async (_name, jobOptions, error) => {
    // GIVEN a job whose output breaks the registry contract
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(
      wf.moto.endpoint,
      'pipelines-badoutput001-train-dddddddddd',
      jobOptions,
    );

    // WHEN registered
    const result = await register(pipelineSucceededEvent(PIPELINE, 'badoutput001'), {
      'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
      'sagemaker:describeTrainingJob': sageMakerFaithfulDescribe,
    });

    // THEN it fails with the reason, creates no package and writes no manifest
    expectFailedWith(result, error);
    expect(await packagesIn(GROUP)).toEqual([]);
    expect(result.calls.filter((c) => c.action === 'putObject' || c.action === 'copyObject')).toEqual([]);
    const [notice] = await inbox.read();
    expect(notice.message).toContain(error);
  });

  test('fails with a notice naming the step when the execution has no training job', async () => {
    // GIVEN an execution whose steps include no training job
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);

    // WHEN registered
    const result = await register(pipelineSucceededEvent(PIPELINE, 'notrain00001'), {
      'sagemaker:listPipelineExecutionSteps': stepsOf(undefined),
    });

    // THEN
    expectFailedWith(result, 'NoTrainingJob');
    const [notice] = await inbox.read();
    expect(notice.message).toContain('failed at step "List pipeline steps": NoTrainingJob');
  });

  test('fails with the SageMaker error when the training job cannot be described', async () => {
    // GIVEN steps naming a job that does not exist in SageMaker (moto answers ValidationException)
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);

    // WHEN registered
    const result = await register(pipelineSucceededEvent(PIPELINE, 'gone00000001'), {
      'sagemaker:listPipelineExecutionSteps': stepsOf(
        'arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-gone00000001-train-eeeeeeeeee',
      ),
    });

    // THEN the notice carries the service's own message
    expectStatus(result, 'FAILED');
    expect(result.error).toMatch(/^SageMaker\./);
    const [notice] = await inbox.read();
    expect(notice.message).toContain('failed at step "Describe training job"');
    expect(notice.message).toContain('pipelines-gone00000001-train-eeeeeeeeee');
  });

  test('ignores a pipeline with the deployment prefix that belongs to no recipe', async () => {
    // GIVEN / WHEN an event of an unknown pipeline
    const result = await register(pipelineSucceededEvent('gptoss-dev-removed-recipe', 'x1'), {});

    // THEN it finds no settings object for the name and calls nothing else
    expectStatus(result, 'SUCCEEDED');
    expect(result.path).toContain('Not a recipe pipeline');
    expect(result.calls.map((c) => `${c.service}:${c.action}`)).toEqual(['s3:listObjectsV2']);
    expect(result.calls[0].params.Prefix).toBe(
      `${wf.fixture.stack.servingSettings.prefix}gptoss-dev-removed-recipe.json`,
    );
  });

  test('fails with a notice naming the step when the recipe settings cannot be read', async () => {
    // GIVEN an artifacts bucket that does not exist (moto reset without the settings upload)
    await wf.moto.reset();
    const inbox = await createNotificationInbox(wf.moto.endpoint);

    // WHEN a recipe's pipeline succeeds
    const result = await register(pipelineSucceededEvent(PIPELINE, 'nobucket0001'), {});

    // THEN the execution fails with S3's error, registers nothing, and says where it failed
    expectFailedWith(result, 'S3.NoSuchBucketException');
    expect(result.calls.map((c) => c.action)).toEqual(['listObjectsV2', 'publish']);
    const [notice] = await inbox.read();
    expect(notice.subject).toBe(`Registration failed for pipeline ${PIPELINE}`);
    expect(notice.message).toContain('failed at step "Find recipe settings": S3.NoSuchBucketException');
  });
}

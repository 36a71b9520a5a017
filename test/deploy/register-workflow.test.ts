import { DescribeModelPackageCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { formatInvalid, validateRequests } from '../support/botocore-shapes';
import { startMotoServer, type MotoServer } from '../support/moto-server';
import {
  type CallOverride,
  expectFailedWith,
  expectStatus,
  type RecordedCall,
  runLocally,
  taskStates,
} from '../support/sfn-local';
import {
  buildDeploymentStack,
  createGroup,
  createNotificationInbox,
  createPipelineTrainingJob,
  IMPORTED,
  pipelineSucceededEvent,
  registerDefinition,
  sageMakerClient,
} from './support';

/**
 * The REGISTER state machine, synthesized by CDK, EXECUTED by aws-local-stepfunctions; every Task makes its
 * real SDK call against moto server over HTTP on 127.0.0.1, and the results are read back through the API.
 *
 * Where moto 5.2.5 falls short, the test says so:
 * - `ListPipelineExecutionSteps` is not implemented by moto: a local override answers it with the pipeline's
 *   steps (the training step's metadata names the training job created in moto).
 * - moto's DescribeTrainingJob drops `Environment`, reports a fixed `FinalMetricDataList` and a
 *   `.../model.tar.gz` artifact even for uncompressed output. The "SageMaker-faithful" runs wrap the real
 *   moto answer and put back what SageMaker reports for such a job; the "moto as is" run does not.
 */

const GROUP = 'gptoss-dev-sft-lora-20b';
const PIPELINE = 'gptoss-dev-sft-lora-20b';
const AUTO_GROUP = 'gptoss-dev-full-120b-auto';

let moto: MotoServer;
let definition: StateMachineDefinition;
const allCalls: RecordedCall[] = [];
const enteredStates = new Set<string>();

beforeAll(async () => {
  moto = await startMotoServer();
  definition = registerDefinition(buildDeploymentStack());
});
afterAll(async () => moto.stop());
beforeEach(async () => moto.reset());

/** ListPipelineExecutionSteps (not in moto): the pipeline's Train step and its quality gate. */
function stepsOf(trainingJobArn: string | undefined): CallOverride {
  return () => ({
    PipelineExecutionSteps: [
      {
        StepName: 'QualityGate',
        StepStatus: 'Succeeded',
        Metadata: { Condition: { Outcome: 'False' } },
      },
      ...(trainingJobArn
        ? [{ StepName: 'Train', StepStatus: 'Succeeded', Metadata: { TrainingJob: { Arn: trainingJobArn } } }]
        : []),
    ],
  });
}

/** DescribeTrainingJob as SageMaker answers for this job (moto's answer plus what moto drops). */
const sageMakerFaithfulDescribe: CallOverride = async (params, next) => {
  const job = (await next()) as Record<string, unknown> & { OutputDataConfig: { S3OutputPath: string } };
  return {
    ...job,
    Environment: {
      RECIPE_NAME: 'sft-lora-20b',
      RECIPE_HASH: 'abc123def456',
      GIT_SHA: '0123456789abcdef0123456789abcdef01234567',
      DATASET_URI: 's3://gptoss-dev-datasets/datasets/sft-lora-20b/',
      MLFLOW_TRACKING_ARN: 'arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/gptoss-dev',
      MLFLOW_EXPERIMENT_NAME: 'sft-lora-20b',
    },
    FinalMetricDataList: [
      { MetricName: 'train_loss', Value: 0.9132, Timestamp: '2026-11-27T11:59:00Z' },
      { MetricName: 'eval_loss', Value: 1.0425, Timestamp: '2026-11-27T11:59:30Z' },
    ],
    ModelArtifacts: {
      S3ModelArtifacts: `${job.OutputDataConfig.S3OutputPath}/${params.TrainingJobName as string}/output/model/`,
    },
  };
};

async function register(
  event: Record<string, unknown>,
  overrides: Record<string, CallOverride>,
): Promise<Awaited<ReturnType<typeof runLocally>>> {
  const result = await runLocally(definition, event, { endpoint: moto.endpoint, overrides });
  allCalls.push(...result.calls);
  result.path.forEach((s) => enteredStates.add(s));
  return result;
}

async function packagesIn(group: string) {
  const sm = sageMakerClient(moto.endpoint);
  const list = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }));
  return Promise.all(
    (list.ModelPackageSummaryList ?? []).map((p) =>
      sm.send(new DescribeModelPackageCommand({ ModelPackageName: p.ModelPackageArn })),
    ),
  );
}

test('happy path: creates a pending model package with the vLLM container, uncompressed prefix and provenance', async () => {
  // GIVEN the recipe's group and the training job its pipeline ran, in moto
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-8a7n3i3x7c1d-train-nbyeqydtum');

  // WHEN the pipeline-succeeded event runs the REGISTER machine
  const result = await register(pipelineSucceededEvent(PIPELINE, '8a7n3i3x7c1d'), {
    'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
    'sagemaker:describeTrainingJob': sageMakerFaithfulDescribe,
  });

  // THEN it succeeds and the package read back from SageMaker carries everything
  expectStatus(result, 'SUCCEEDED');
  const [pkg, ...others] = await packagesIn(GROUP);
  expect(others).toHaveLength(0);
  expect(pkg.ModelApprovalStatus).toBe('PendingManualApproval');
  const modelPrefix = `${job.outputPath}/pipelines-8a7n3i3x7c1d-train-nbyeqydtum/output/model/`;
  expect(pkg.InferenceSpecification?.Containers?.[0]).toMatchObject({
    Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.14.0-gpu-py312-cu129-ubuntu22.04-sagemaker',
    ModelDataSource: { S3DataSource: { S3Uri: modelPrefix, S3DataType: 'S3Prefix', CompressionType: 'None' } },
    Environment: {
      SM_VLLM_MODEL: '/opt/ml/model',
      SM_VLLM_TENSOR_PARALLEL_SIZE: '4',
      SM_VLLM_MAX_MODEL_LEN: '8192',
      SM_VLLM_SERVED_MODEL_NAME: 'sft-lora-20b',
    },
  });
  expect(pkg.InferenceSpecification?.SupportedRealtimeInferenceInstanceTypes).toEqual(['ml.g6e.12xlarge']);
  expect(pkg.CustomerMetadataProperties).toEqual({
    recipe: 'sft-lora-20b',
    recipe_hash: 'abc123def456',
    git_sha: '0123456789abcdef0123456789abcdef01234567',
    dataset_uri: 's3://gptoss-dev-datasets/datasets/sft-lora-20b/',
    eval_loss: '1.0425',
    mlflow_tracking_arn: 'arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/gptoss-dev',
    mlflow_experiment: 'sft-lora-20b',
    mlflow_run_name: 'pipelines-8a7n3i3x7c1d-train-nbyeqydtum',
    training_job: 'pipelines-8a7n3i3x7c1d-train-nbyeqydtum',
    pipeline_execution_arn: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PIPELINE}/execution/8a7n3i3x7c1d`,
  });
  expect(pkg.MetadataProperties).toEqual({
    GeneratedBy: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PIPELINE}/execution/8a7n3i3x7c1d`,
    CommitId: '0123456789abcdef0123456789abcdef01234567',
  });
  expect(pkg.ModelMetrics?.ModelQuality?.Statistics?.S3Uri).toBe(`${modelPrefix}evaluation.json`);
  // AND the ClientToken is the MD5 of the execution ARN (32 hex digits, what CreateModelPackage accepts)
  const create = result.calls.find((c) => c.action === 'createModelPackage');
  expect(create?.params.ClientToken).toMatch(/^[0-9a-f]{32}$/);
  // AND the approver got the notice with the approve command
  const notices = await inbox.read();
  expect(notices).toHaveLength(1);
  expect(notices[0].subject).toBe('Model sft-lora-20b v1 awaits approval');
  expect(notices[0].message).toContain(`--model-package-arn ${pkg.ModelPackageArn} --model-approval-status Approved`);
  expect(notices[0].message).toContain('eval_loss 1.0425');
});

test('duplicate event: a second execution for the same pipeline execution creates no second package', async () => {
  // GIVEN a registered execution
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-dup000000001-train-aaaaaaaaaa');
  const overrides = {
    'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
    'sagemaker:describeTrainingJob': sageMakerFaithfulDescribe,
  };
  const event = pipelineSucceededEvent(PIPELINE, 'dup000000001');
  expect((await register(event, overrides)).status).toBe('SUCCEEDED');

  // WHEN SageMaker sends the same event again
  const second = await register({ ...event, id: 'evt-duplicate' }, overrides);

  // THEN the second execution stops at the duplicate check: one package, one notice
  expectStatus(second, 'SUCCEEDED');
  expect(second.path).toContain('Already registered');
  expect(second.calls.map((c) => c.action)).not.toContain('createModelPackage');
  expect(await packagesIn(GROUP)).toHaveLength(1);
  expect(await inbox.read()).toHaveLength(1);
});

test('moto as is: without job environment or eval metrics the package records defaults and the derived prefix', async () => {
  // GIVEN a job whose description (moto's own) lacks Environment and eval_loss and reports model.tar.gz
  await createGroup(moto.endpoint, GROUP);
  await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-plainmoto0001-train-bbbbbbbbbb');

  // WHEN registered with moto's DescribeTrainingJob unchanged
  const result = await register(pipelineSucceededEvent(PIPELINE, 'plainmoto0001'), {
    'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
  });

  // THEN the prefix follows the training-job contract and the metadata says what is unknown
  expectStatus(result, 'SUCCEEDED');
  const [pkg] = await packagesIn(GROUP);
  expect(pkg.InferenceSpecification?.Containers?.[0].ModelDataSource?.S3DataSource?.S3Uri).toBe(
    `s3://${IMPORTED.bucketName}/models/sft-lora-20b/pipelines-plainmoto0001-train-bbbbbbbbbb/output/model/`,
  );
  expect(pkg.CustomerMetadataProperties).toMatchObject({
    recipe_hash: buildDeploymentStack().stack.plans[0].recipeHash,
    git_sha: 'unknown',
    eval_loss: 'not reported',
  });
});

test('auto approval: a recipe with platform.approval auto registers its package as Approved', async () => {
  // GIVEN the auto-approved recipe's group and job
  await createGroup(moto.endpoint, AUTO_GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-auto00000001-train-cccccccccc', {
    outputPath: `s3://${IMPORTED.bucketName}/models/full-120b-auto/`,
  });

  // WHEN its pipeline succeeds
  const result = await register(pipelineSucceededEvent(AUTO_GROUP, 'auto00000001'), {
    'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
  });

  // THEN the package is Approved (which starts DEPLOY) and the notice says so
  expectStatus(result, 'SUCCEEDED');
  const [pkg] = await packagesIn(AUTO_GROUP);
  expect(pkg.ModelApprovalStatus).toBe('Approved');
  // an output path with a trailing slash gives no double slash
  expect(pkg.InferenceSpecification?.Containers?.[0].ModelDataSource?.S3DataSource?.S3Uri).toBe(
    `s3://${IMPORTED.bucketName}/models/full-120b-auto/pipelines-auto00000001-train-cccccccccc/output/model/`,
  );
  expect(pkg.InferenceSpecification?.SupportedRealtimeInferenceInstanceTypes).toEqual(['ml.p4d.24xlarge']);
  const notices = await inbox.read();
  expect(notices.map((n) => n.subject)).toEqual(['Model full-120b-auto v1 registered and approved']);
});

test('fails with a notice when the training output is compressed, and creates no package', async () => {
  // GIVEN a job that broke the training-job contract (GZIP output)
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-gzip00000001-train-dddddddddd', {
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

test('fails with a notice naming the step when the execution has no training job', async () => {
  // GIVEN an execution whose steps include no training job
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);

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
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);

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

  // THEN nothing is called
  expectStatus(result, 'SUCCEEDED');
  expect(result.path).toContain('Not a recipe pipeline');
  expect(result.calls).toHaveLength(0);
});

test('every request the machine sent validates against the botocore input shapes', () => {
  // GIVEN the calls of all runs above WHEN validated against botocore THEN none is invalid
  const botocoreService: Record<string, string> = { sagemaker: 'sagemaker', sns: 'sns' };
  const requests = allCalls.map((c) => ({
    service: botocoreService[c.service] ?? c.service,
    operation: c.action,
    params: c.params,
    label: `${c.state} (${c.service}:${c.action})`,
  }));
  expect(requests.length).toBeGreaterThan(10);
  expect(formatInvalid(validateRequests(requests))).toBe('');
});

test('the runs above entered every Task state of the machine', () => {
  // GIVEN the Task states of the definition WHEN compared with the states entered THEN none is untested
  const untested = taskStates(definition)
    .map((t) => t.name)
    .filter((name) => !enteredStates.has(name));
  expect(untested).toEqual([]);
});

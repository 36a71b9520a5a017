import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expectStatus } from '../../support/sfn-local';
import {
  analyzedRecipe,
  buildDeploymentStack,
  createGroup,
  createNotificationInbox,
  createPipelineTrainingJob,
  FIXTURES_DIR,
  IMPORTED,
  MODEL_FILES,
  pipelineSucceededEvent,
  registerDefinition,
  uploadServingSettings,
} from '../support';
import { AUTO_GROUP, GROUP, PIPELINE, type RegisterWorkflow, sageMakerFaithfulDescribe, stepsOf } from './harness';

function sha256Base64(text: string): string {
  return crypto.createHash('sha256').update(text).digest('base64');
}

/**
 * REGISTER scenarios that create a package: the reviewed recipe's (what it carries, the registry copy and its
 * manifest, the notice), a duplicate event, moto's own job description, auto approval, and a recipe's own image.
 */
export function registrationTests(wf: RegisterWorkflow): void {
  const { register, packagesIn } = wf;

  async function readObject(key: string): Promise<string> {
    const s3 = new S3Client({ endpoint: wf.moto.endpoint, region: 'us-east-1', forcePathStyle: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: IMPORTED.bucketName, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    s3.destroy();
    return text;
  }

  test('happy path: creates a pending model package with the vLLM container, uncompressed prefix and provenance', async () => {
    // GIVEN the recipe's group and the training job its pipeline ran, in moto
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-8a7n3i3x7c1d-train-nbyeqydtum');

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
    const jobPrefix = `${job.outputPath}/pipelines-8a7n3i3x7c1d-train-nbyeqydtum/output/model/`;
    const registered = `registry/sft-lora-20b/pipelines-8a7n3i3x7c1d-train-nbyeqydtum/`;
    // the package points at the write-once registry copy, not at the job's output
    const modelPrefix = `s3://${IMPORTED.bucketName}/${registered}model/`;
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
      model_source: jobPrefix,
      model_files_sha256: `s3://${IMPORTED.bucketName}/${registered}model-files.sha256.json`,
      model_manifest_sha256: sha256Base64(await readObject(`${registered}model-files.sha256.json`)),
    });
    // AND every model file was copied, byte for byte, with the SHA-256 S3 computed for the copy in the manifest
    const manifest = JSON.parse(await readObject(`${registered}model-files.sha256.json`)) as {
      file: string;
      size: number;
      sha256: string;
    }[];
    expect(manifest.sort((a, b) => a.file.localeCompare(b.file))).toEqual(
      Object.entries(MODEL_FILES)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([file, body]) => ({ file, size: Buffer.byteLength(body), sha256: sha256Base64(body) })),
    );
    for (const [file, body] of Object.entries(MODEL_FILES)) {
      expect(await readObject(`${registered}model/${file}`)).toBe(body);
    }
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
    // AND the output names the package and the run, and no other package (the CLI's watch follows it)
    expect(result.output).toEqual({
      ModelPackageArn: pkg.ModelPackageArn,
      ModelPackageVersion: '1',
      ModelPackageGroupName: GROUP,
      ModelApprovalStatus: 'PendingManualApproval',
      PipelineExecutionArn: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PIPELINE}/execution/8a7n3i3x7c1d`,
      Recipe: 'sft-lora-20b',
    });
    // AND the recipe's settings came from its object in S3
    expect(result.calls.slice(0, 2).map((c) => [c.action, c.params.Bucket])).toEqual([
      ['listObjectsV2', IMPORTED.bucketName],
      ['getObject', IMPORTED.bucketName],
    ]);
    expect(result.calls[1].params.Key).toBe(`${wf.fixture.stack.servingSettings.prefix}${GROUP}.json`);
  });

  test('duplicate event: a second execution for the same pipeline execution creates no second package', async () => {
    // GIVEN a registered execution
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-dup000000001-train-aaaaaaaaaa');
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
    // AND its output names the run but none of the group's listed packages
    expect(second.output).toEqual({
      AlreadyRegistered: true,
      ModelPackageGroupName: GROUP,
      PipelineExecutionArn: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PIPELINE}/execution/dup000000001`,
      Recipe: 'sft-lora-20b',
    });
  });

  test('moto as is: without job environment or eval metrics the package records defaults and the derived prefix', async () => {
    // GIVEN a job whose description (moto's own) lacks Environment and eval_loss and reports model.tar.gz
    await createGroup(wf.moto.endpoint, GROUP);
    await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-plainmoto0001-train-bbbbbbbbbb');

    // WHEN registered with moto's DescribeTrainingJob unchanged
    const result = await register(pipelineSucceededEvent(PIPELINE, 'plainmoto0001'), {
      'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn),
    });

    // THEN the prefix follows the training-job contract and the metadata says what is unknown
    expectStatus(result, 'SUCCEEDED');
    const [pkg] = await packagesIn(GROUP);
    expect(pkg.InferenceSpecification?.Containers?.[0].ModelDataSource?.S3DataSource?.S3Uri).toBe(
      `s3://${IMPORTED.bucketName}/registry/sft-lora-20b/pipelines-plainmoto0001-train-bbbbbbbbbb/model/`,
    );
    expect(pkg.CustomerMetadataProperties?.model_source).toBe(
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
    await createGroup(wf.moto.endpoint, AUTO_GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-auto00000001-train-cccccccccc', {
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
    // an output path with a trailing slash gives no double slash (the job's prefix matched the layout)
    expect(pkg.CustomerMetadataProperties?.model_source).toBe(
      `s3://${IMPORTED.bucketName}/models/full-120b-auto/pipelines-auto00000001-train-cccccccccc/output/model/`,
    );
    expect(pkg.InferenceSpecification?.Containers?.[0].ModelDataSource?.S3DataSource?.S3Uri).toBe(
      `s3://${IMPORTED.bucketName}/registry/full-120b-auto/pipelines-auto00000001-train-cccccccccc/model/`,
    );
    expect(pkg.InferenceSpecification?.SupportedRealtimeInferenceInstanceTypes).toEqual(['ml.p4d.24xlarge']);
    const notices = await inbox.read();
    expect(notices.map((n) => n.subject)).toEqual(['Model full-120b-auto v1 registered and approved']);
  });

  test('a recipe with its own serving image registers the package with that image', async () => {
    // GIVEN a deployment whose recipe names a private ECR image (platform.serving.image_uri)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-image-'));
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm-custom:2026-11';
    const source = fs.readFileSync(path.join(FIXTURES_DIR, 'sft-lora-20b.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(dir, 'sft-lora-20b.yaml'),
      source.replace('  serving:\n', `  serving:\n    image_uri: ${image}\n`),
    );
    const custom = buildDeploymentStack({ recipes: [analyzedRecipe(path.join(dir, 'sft-lora-20b.yaml'), dir)] });
    fs.rmSync(dir, { recursive: true, force: true });
    await wf.moto.reset();
    await uploadServingSettings(wf.moto.endpoint, custom);
    await createGroup(wf.moto.endpoint, GROUP);
    await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-image0000001-train-gggggggggg');

    // WHEN its pipeline succeeds
    const result = await register(
      pipelineSucceededEvent(PIPELINE, 'image0000001'),
      { 'sagemaker:listPipelineExecutionSteps': stepsOf(job.arn) },
      registerDefinition(custom),
    );

    // THEN the package's container is the recipe's image, not the DLC
    expectStatus(result, 'SUCCEEDED');
    expect(result.path).not.toContain('Use the vLLM DLC');
    const [pkg] = await packagesIn(GROUP);
    expect(pkg.InferenceSpecification?.Containers?.[0].Image).toBe(image);
  });
}

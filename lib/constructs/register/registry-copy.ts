import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ARTIFACT_KEYS } from '../../config/artifacts-layout';
import { grantObjectsRead, grantObjectsReadWrite } from '../data/bucket-grants';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure, caughtError, recordCaughtFailure, recordFailure } from '../workflow/failures';
import { job, model, recipe, registry } from './state';

/** CopyObject copies at most 5 GiB in one request (larger objects need a multipart copy). */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

/** Files copied at once. */
const COPY_CONCURRENCY = 8;

/**
 * Copies the training job's model (an uncompressed prefix under `models/`) to the write-once registry
 * prefix, `registry/<recipe>/<job>/model/`, one S3 CopyObject per file with ChecksumAlgorithm SHA256, so
 * S3 computes each copy's checksum on its side. Writes the per-file checksums as
 * `registry/<recipe>/<job>/model-files.sha256.json` and sets `$.model.prefix` to the copy. Then `next`.
 *
 * Why CopyObject in an inline Map rather than a copy Lambda or a Distributed Map: a model directory holds
 * tens of flat files (safetensors shards under 5 GB each, as transformers writes them), the copy runs
 * inside S3 without moving bytes through the workflow, and the whole phase runs in the local Step Functions
 * harness against moto (test/deploy/register-workflow.test.ts). A file over 5 GiB, a nested path or more
 * than 1000 files fails the registration with a notice instead of registering part of a model.
 */
export function registryCopyPhase(
  scope: Construct,
  bucket: s3.IBucket,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const sourceKeys = `${ARTIFACT_KEYS.models('{}')}{}/output/model/`;
  const registered = ARTIFACT_KEYS.registered('{}', '{}');
  const where = new sfn.Pass(scope, 'Registry location', {
    comment: 'The job writes under models/<recipe>/<job>/output/model/; the copy goes to registry/<recipe>/<job>/.',
    parameters: {
      expectedPrefix: sfn.JsonPath.format(
        `s3://{}/${sourceKeys}`,
        bucket.bucketName,
        recipe.string('recipe'),
        job.string('TrainingJobName'),
      ),
      sourceKeyPrefix: sfn.JsonPath.format(sourceKeys, recipe.string('recipe'), job.string('TrainingJobName')),
      keyPrefix: sfn.JsonPath.format(`${registered}model/`, recipe.string('recipe'), job.string('TrainingJobName')),
      manifestKey: sfn.JsonPath.format(
        `${registered}model-files.sha256.json`,
        recipe.string('recipe'),
        job.string('TrainingJobName'),
      ),
    },
    resultPath: registry.root,
  });
  const outside = recordFailure(scope, 'Model outside the models prefix', {
    step: 'Copy model to registry',
    error: 'ModelOutsidePlatformPrefix',
    cause: sfn.JsonPath.format(
      'the job wrote its model to {}, not to {} where the platform pipelines put it; nothing was registered',
      model.string('prefix'),
      registry.string('expectedPrefix'),
    ),
  }).next(onFailure);

  const list = awsCall(scope, 'List model files', {
    service: 's3',
    action: 'listObjectsV2',
    parameters: { Bucket: bucket.bucketName, Prefix: registry.string('sourceKeyPrefix'), MaxKeys: 1000 },
    iamResources: [bucket.bucketArn],
    iamAction: 's3:ListBucket',
    resultSelector: { 'truncated.$': '$.IsTruncated', 'count.$': '$.KeyCount', 'result.$': '$' },
    resultPath: '$.listing',
  });
  catchAsFailure(scope, list, 'List model files', onFailure);
  const empty = recordFailure(scope, 'No model files', {
    step: 'List model files',
    error: 'NoModelFiles',
    cause: sfn.JsonPath.format('the training job left no files under {}', model.string('prefix')),
  }).next(onFailure);
  const tooMany = recordFailure(scope, 'Too many model files', {
    step: 'List model files',
    error: 'TooManyModelFiles',
    cause: sfn.JsonPath.format('more than 1000 files under {}; nothing was registered', model.string('prefix')),
  }).next(onFailure);

  // first every file is checked, then copied: a bad file fails the registration before anything is copied.
  const checkAll = new sfn.Map(scope, 'Check model files', {
    comment: 'Files of at most 5 GiB, at most one directory deep; each item becomes { key, size, file, keyPrefix }.',
    itemsPath: '$.listing.result.Contents',
    itemSelector: {
      key: sfn.JsonPath.stringAt('$$.Map.Item.Value.Key'),
      size: sfn.JsonPath.numberAt('$$.Map.Item.Value.Size'),
      sourceKeyPrefix: registry.string('sourceKeyPrefix'),
      keyPrefix: registry.string('keyPrefix'),
    },
    resultPath: '$.files',
  });
  checkAll.itemProcessor(checkOneFile(scope));
  const copyAll = new sfn.Map(scope, 'Copy model to registry', {
    comment: 'One CopyObject per file, SHA256 computed by S3 for the copy.',
    itemsPath: '$.files',
    maxConcurrency: COPY_CONCURRENCY,
    resultPath: '$.copied',
  });
  copyAll.itemProcessor(copyOneFile(scope, bucket));
  for (const [map, step] of [
    [checkAll, 'Check model files'],
    [copyAll, 'Copy model to registry'],
  ] as const) {
    map.addCatch(recordCaughtFailure(scope, step).next(onFailure), {
      errors: [sfn.Errors.ALL],
      resultPath: caughtError.root,
    });
  }
  checkAll.next(copyAll);

  const manifest = awsCall(scope, 'Write checksum manifest', {
    service: 's3',
    action: 'putObject',
    parameters: {
      Bucket: bucket.bucketName,
      Key: registry.string('manifestKey'),
      Body: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.copied')),
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
    },
    iamResources: [bucket.arnForObjects(`${ARTIFACT_KEYS.registryRoot}*`)],
    iamAction: 's3:PutObject',
    resultSelector: { 'sha256.$': '$.ChecksumSHA256' },
    resultPath: '$.manifest',
  });
  catchAsFailure(scope, manifest, 'Write checksum manifest', onFailure);
  const pointAtCopy = new sfn.Pass(scope, 'Model prefix in registry', {
    comment: 'The package points at the write-once copy; the original prefix is kept as provenance.',
    parameters: {
      prefix: sfn.JsonPath.format('s3://{}/{}', bucket.bucketName, registry.string('keyPrefix')),
      source: model.string('prefix'),
      manifest: sfn.JsonPath.format('s3://{}/{}', bucket.bucketName, registry.string('manifestKey')),
      manifestSha256: sfn.JsonPath.stringAt('$.manifest.sha256'),
      files: sfn.JsonPath.stringAt('$.listing.count'),
    },
    resultPath: model.root,
  });
  manifest.next(pointAtCopy).next(next);
  copyAll.next(manifest);
  list.next(
    new sfn.Choice(scope, 'Model files found?')
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.listing.result.Contents')), empty)
      .when(sfn.Condition.booleanEquals('$.listing.truncated', true), tooMany)
      .otherwise(checkAll),
  );
  return where.next(
    new sfn.Choice(scope, 'Model under the models prefix?')
      .when(sfn.Condition.stringEqualsJsonPath(model.path('prefix'), registry.path('expectedPrefix')), list)
      .otherwise(outside),
  );
}

/**
 * One check iteration: the file's path below the model directory from its key — a file, or a file in one
 * subdirectory (a LoRA job keeps its adapter in `adapter/` beside the merged model) — and small enough for one
 * CopyObject; otherwise a Fail naming why.
 */
function checkOneFile(scope: Construct): sfn.IChainable {
  const split = new sfn.Pass(scope, 'Split key', {
    parameters: {
      'key.$': '$.key',
      'size.$': '$.size',
      'sourceKeyPrefix.$': '$.sourceKeyPrefix',
      'keyPrefix.$': '$.keyPrefix',
      parts: sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.key'), '/'),
    },
  });
  const count = new sfn.Pass(scope, 'Count key parts', {
    parameters: { 'value.$': 'States.ArrayLength($.parts)' },
    resultPath: '$.count',
  });
  // the source prefix has at least two parts (models/<recipe>/...), so the key has a part before its name.
  const last = 'States.ArrayGetItem($.parts, States.MathAdd($.count.value, -1))';
  const parent = 'States.ArrayGetItem($.parts, States.MathAdd($.count.value, -2))';
  const name = new sfn.Pass(scope, 'File name', {
    parameters: {
      'key.$': '$.key',
      'size.$': '$.size',
      'keyPrefix.$': '$.keyPrefix',
      'name.$': last,
      'nestedName.$': `States.Format('{}/{}', ${parent}, ${last})`,
      'flatKey.$': `States.Format('{}{}', $.sourceKeyPrefix, ${last})`,
      'nestedKey.$': `States.Format('{}{}/{}', $.sourceKeyPrefix, ${parent}, ${last})`,
    },
  });
  const checked = (id: string, file: string) =>
    new sfn.Pass(scope, id, {
      parameters: { 'key.$': '$.key', 'size.$': '$.size', 'file.$': file, 'keyPrefix.$': '$.keyPrefix' },
    });
  return split
    .next(count)
    .next(name)
    .next(
      new sfn.Choice(scope, 'File copyable?')
        .when(
          sfn.Condition.numberGreaterThan('$.size', MAX_COPY_BYTES),
          new sfn.Fail(scope, 'Model file too large', {
            error: 'ModelFileTooLarge',
            cause:
              'a model file is larger than 5 GiB, the most one CopyObject copies; save the model in smaller shards',
          }),
        )
        .when(sfn.Condition.stringEqualsJsonPath('$.key', '$.flatKey'), checked('File checked', '$.name'))
        .when(
          sfn.Condition.stringEqualsJsonPath('$.key', '$.nestedKey'),
          checked('File in a subdirectory checked', '$.nestedName'),
        )
        .otherwise(
          new sfn.Fail(scope, 'Nested model file', {
            error: 'NestedModelFile',
            comment: 'save_pretrained writes flat directories; one level (adapter/) is kept with its path.',
            cause:
              'a file of the model output is more than one directory below it; the registry keeps the model ' +
              'directory and its direct subdirectories only',
          }),
        ),
    );
}

/** One copy iteration: CopyObject with a SHA-256 checksum, then `{ file, size, sha256 }` as its result. */
function copyOneFile(scope: Construct, bucket: s3.IBucket): sfn.IChainable {
  const copy = awsCall(scope, 'Copy file', {
    service: 's3',
    action: 'copyObject',
    parameters: {
      Bucket: bucket.bucketName,
      CopySource: sfn.JsonPath.format('{}/{}', bucket.bucketName, sfn.JsonPath.stringAt('$.key')),
      Key: sfn.JsonPath.format('{}{}', sfn.JsonPath.stringAt('$.keyPrefix'), sfn.JsonPath.stringAt('$.file')),
      ChecksumAlgorithm: 'SHA256',
    },
    iamResources: [bucket.arnForObjects(`${ARTIFACT_KEYS.registryRoot}*`)],
    iamAction: 's3:PutObject',
    additionalIamStatements: [
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${ARTIFACT_KEYS.modelsRoot}*`)],
      }),
    ],
    resultSelector: { 'sha256.$': '$.CopyObjectResult.ChecksumSHA256' },
    resultPath: '$.copy',
  });
  copy.addRetry({ errors: [sfn.Errors.ALL], interval: cdk.Duration.seconds(5), maxAttempts: 3 });
  return copy.next(
    new sfn.Pass(scope, 'File copied', {
      parameters: { 'file.$': '$.file', 'size.$': '$.size', 'sha256.$': '$.copy.sha256' },
    }),
  );
}

/** The register role's S3 access: read the job's model output, write the registry copy (the key through S3). */
export function grantRegistryCopy(grantee: iam.IGrantable, bucket: s3.IBucket): void {
  grantObjectsRead(bucket, grantee, ARTIFACT_KEYS.modelsRoot);
  grantObjectsReadWrite(bucket, grantee, ARTIFACT_KEYS.registryRoot);
}

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  KMS_VIA_S3_READ_ACTIONS,
  KMS_VIA_S3_WRITE_ACTIONS,
  S3_BUCKET_LIST_ACTIONS,
  S3_OBJECT_READ_ACTIONS,
  S3_OBJECT_WRITE_ACTIONS,
} from '../../iam/perms';
import { acknowledgeWildcardResources } from '../compliance';

/**
 * Bucket grants with explicit actions (no `s3:GetObject*`/`s3:List*`/`kms:GenerateDataKey*` wildcards as in
 * `IBucket.grantRead`), restricted to a key prefix, with the bucket key usable only through S3. Use these
 * wherever least privilege matters; they keep cdk-nag IAM5 findings to the resource wildcard only and pass
 * the IAM policy linter (test/support/iam-lint/).
 */

function listPrefix(prefix: string): string[] {
  return [`${prefix}*`];
}

function grantKey(bucket: s3.IBucket, grantee: iam.IGrantable, actions: string[]): void {
  if (!bucket.encryptionKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [bucket.encryptionKey.keyArn],
      // the key is usable only for S3 requests, not for direct KMS calls.
      conditions: { StringEquals: { 'kms:ViaService': `s3.${cdk.Stack.of(bucket).region}.amazonaws.com` } },
    }),
  );
}

/** Acknowledges the object wildcard (`<bucket>/<prefix>*`) on the grantee, with the reason it is inherent. */
function acknowledgeObjects(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: string, access: string): void {
  const principal = grantee.grantPrincipal;
  if (!Construct.isConstruct(principal)) return;
  acknowledgeWildcardResources(
    principal,
    [bucket.arnForObjects(`${prefix}*`)],
    `${access} objects under ${prefix === '' ? 'the whole bucket' : `the prefix ${prefix}`}: object keys are chosen at run time (datasets, runs, checkpoints), so the grant is per prefix.`,
  );
}

function grantList(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: S3_BUCKET_LIST_ACTIONS,
      resources: [bucket.bucketArn],
      ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': listPrefix(prefix) } } }),
    }),
  );
}

/**
 * Read objects under `prefix` (`''` for the whole bucket) and list that prefix; decrypt through S3.
 * @param prefix key prefix ending in `/`, or `''`
 */
export function grantObjectsRead(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: string = ''): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: S3_OBJECT_READ_ACTIONS,
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  grantList(bucket, grantee, prefix);
  grantKey(bucket, grantee, KMS_VIA_S3_READ_ACTIONS);
  acknowledgeObjects(bucket, grantee, prefix, 'Read');
  return grant;
}

/**
 * Read and write (put, multipart) objects under `prefix` (`''` for the whole bucket) and list that prefix;
 * encrypt and decrypt through S3. No delete.
 * @param prefix key prefix ending in `/`, or `''`
 */
export function grantObjectsReadWrite(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: string = ''): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...S3_OBJECT_READ_ACTIONS, ...S3_OBJECT_WRITE_ACTIONS],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  grantList(bucket, grantee, prefix);
  grantKey(bucket, grantee, [...KMS_VIA_S3_READ_ACTIONS, ...KMS_VIA_S3_WRITE_ACTIONS]);
  acknowledgeObjects(bucket, grantee, prefix, 'Read and write');
  return grant;
}

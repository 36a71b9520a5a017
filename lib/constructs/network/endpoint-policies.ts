import type * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * VPC endpoint policies: what the platform's private subnets may reach through each endpoint. Without one, an
 * endpoint admits any request, so a notebook or job could copy data to any bucket (or key, or log group) of
 * any account in the region. Sources of every AWS-owned resource named here: docs/facts/aws.md §6.
 */

/**
 * The interface endpoints whose every call names a resource, so the resource's account can be required as
 * well; the others (SageMaker and ECR pull AWS-owned images and hub content, CloudWatch metrics have no
 * resource) are limited by the caller's account only.
 */
const RESOURCE_ACCOUNT_ENDPOINTS = new Set(['Kms', 'Logs', 'SecretsManager']);

/**
 * The S3 gateway endpoint: buckets of this account (the platform's buckets, and dataset buckets the operator
 * adds), and read-only the AWS-owned bucket ECR serves image layers from.
 */
export function s3EndpointStatements(stack: cdk.Stack): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'BucketsOfThisAccount',
      principals: [new iam.StarPrincipal()],
      actions: ['s3:*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:ResourceAccount': stack.account } },
    }),
    new iam.PolicyStatement({
      sid: 'EcrImageLayers',
      principals: [new iam.StarPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:${stack.partition}:s3:::prod-${stack.region}-starport-layer-bucket/*`],
    }),
  ];
}

/** An interface endpoint: callers of this account only, and for {@link RESOURCE_ACCOUNT_ENDPOINTS} its resources. */
export function interfaceEndpointStatement(stack: cdk.Stack, endpointName: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ThisAccountOnly',
    principals: [new iam.StarPrincipal()],
    actions: ['*'],
    resources: ['*'],
    conditions: {
      StringEquals: {
        'aws:PrincipalAccount': stack.account,
        ...(RESOURCE_ACCOUNT_ENDPOINTS.has(endpointName) ? { 'aws:ResourceAccount': stack.account } : {}),
      },
    },
  });
}

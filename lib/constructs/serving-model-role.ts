import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type NamingContext, resourcePrefix } from '../config/naming';
import {
  ECR_AUTH_ACTIONS,
  ECR_PULL_ACTIONS,
  ENDPOINT_LOG_ACTIONS,
  ENDPOINT_METRIC_ACTIONS,
  KMS_READ_WRITE_ACTIONS,
  S3_CAPTURE_WRITE_ACTIONS,
  S3_LIST_ACTIONS,
  S3_MODEL_READ_ACTIONS,
  VPC_DESCRIBE_ACTIONS,
  VPC_ENI_ACTIONS,
} from '../iam/deploy-actions';
import type { ServingImage } from '../recipes/serving-plan';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from './compliance';

/** Props of {@link ServingModelRole}. */
export interface ServingModelRoleProps {
  readonly naming: NamingContext;
  /** Holds the models (read) and the data capture (write). */
  readonly artifactsBucket: s3.IBucket;
  /** Key prefix of the uncompressed models the endpoints serve, e.g. `registry/`. */
  readonly modelsPrefix: string;
  /** Key prefix of endpoint data capture, e.g. `data-capture/`. */
  readonly dataCapturePrefix: string;
  /** The serving images of every recipe: the role may pull exactly these repositories. */
  readonly images: readonly ServingImage[];
  /** Subnets the endpoints' ENIs are placed in. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Security group of the endpoints' ENIs. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The execution role SageMaker assumes for an endpoint's model: read the uncompressed model prefix, write
 * data capture, pull the serving image, write container logs and metrics, and place ENIs in the VPC.
 * Nothing else (no `AmazonSageMakerFullAccess`).
 */
export class ServingModelRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ServingModelRoleProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const prefix = resourcePrefix(props.naming);
    this.role = new iam.Role(this, 'Resource', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `${prefix}: SageMaker endpoints serving fine-tuned GPT-OSS models`,
    });

    // explicit actions rather than bucket.grantRead/grantPut: no s3:List*/GetObject*/Abort* or kms:*Key* wildcards.
    const models = props.artifactsBucket.arnForObjects(`${props.modelsPrefix}*`);
    const capture = props.artifactsBucket.arnForObjects(`${props.dataCapturePrefix}*`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: S3_MODEL_READ_ACTIONS, resources: [models] }));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: S3_LIST_ACTIONS,
        resources: [props.artifactsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${props.modelsPrefix}*`] } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: S3_CAPTURE_WRITE_ACTIONS, resources: [capture] }),
    );
    if (props.artifactsBucket.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: KMS_READ_WRITE_ACTIONS,
          resources: [props.artifactsBucket.encryptionKey.keyArn],
        }),
      );
    }

    const repositories = new Map<string, string>();
    for (const image of props.images) {
      const region = image.kind === 'custom' ? image.region : stack.region;
      const repoArn = stack.formatArn({
        service: 'ecr',
        region,
        account: image.account,
        resource: 'repository',
        resourceName: image.repository,
      });
      repositories.set(`${image.account}/${region}/${image.repository}`, repoArn);
    }
    if (repositories.size > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ECR_PULL_ACTIONS, resources: [...repositories.values()].sort() }),
      );
      // ecr:GetAuthorizationToken (the registry login) supports no resource-level permissions.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ECR_AUTH_ACTIONS, resources: ['*'] }));
    }

    const logGroup = `/aws/sagemaker/Endpoints/${prefix}-*`;
    const logResources = [
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: logGroup,
        arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
      }),
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${logGroup}:log-stream:*`,
        arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ENDPOINT_LOG_ACTIONS, resources: logResources }));
    // PutMetricData supports no resource-level permissions; the namespace condition scopes it.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ENDPOINT_METRIC_ACTIONS,
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/Endpoints', 'AWS/SageMaker*'] } },
      }),
    );

    const eni = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: VPC_ENI_ACTIONS,
        resources: [
          // SageMaker creates the ENIs, so their ids are unknown; they are confined to these subnets and group.
          eni,
          ...props.subnets.map((s) =>
            stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s.subnetId }),
          ),
          stack.formatArn({
            service: 'ec2',
            resource: 'security-group',
            resourceName: props.securityGroup.securityGroupId,
          }),
        ],
      }),
    );
    // EC2 Describe* actions support no resource-level permissions.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: VPC_DESCRIBE_ACTIONS, resources: ['*'] }));

    acknowledgeGrantPolicy(this.role, 'SageMaker endpoints serving the fine-tuned models');
    cdk.Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only for ecr:GetAuthorizationToken, ec2:Describe* and cloudwatch:PutMetricData (namespace-conditioned), which support no resource-level permissions.',
    });
    acknowledgeWildcardResources(
      this.role,
      [models, capture, eni, ...logResources],
      'Object keys under the served-models and data-capture/ prefixes are generated per training job and endpoint; endpoint log groups and streams are created by SageMaker per endpoint (all named with this deployment prefix); ENIs are created by SageMaker in the listed subnets and security group.',
    );
  }
}

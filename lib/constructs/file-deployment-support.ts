import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import {
  FILE_DEPLOYMENT_KMS_ACTIONS,
  FILE_DEPLOYMENT_LIST_ACTIONS,
  FILE_DEPLOYMENT_READ_ACTIONS,
  FILE_DEPLOYMENT_WRITE_ACTIONS,
} from '../iam/training-perms';
import { acknowledgeGrantPolicy, acknowledgeRegulatedRule, acknowledgeWildcardResources } from './compliance';

/** The role and log group shared by a stack's file deployments, with their exact grants. */
export class FileDeploymentSupport extends Construct {
  public static of(stack: cdk.Stack, artifactsBucket: s3.IBucket): FileDeploymentSupport {
    const id = 'PipelineFileDeploymentSupport';
    const existing = stack.node.tryFindChild(id) as FileDeploymentSupport | undefined;
    return existing ?? new FileDeploymentSupport(stack, id, artifactsBucket);
  }

  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  private readonly sourceBuckets = new Set<string>();

  private constructor(scope: Construct, id: string, artifactsBucket: s3.IBucket) {
    super(scope, id);
    const key = artifactsBucket.encryptionKey;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies pipeline files from the CDK asset bucket to the artifacts bucket at deploy time',
    });
    this.logGroup.grantWrite(this.role);
    // `aws s3 sync` lists the destination, then puts (multipart for large files) with the bucket's KMS key.
    const objects = artifactsBucket.arnForObjects('*');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_LIST_ACTIONS, resources: [artifactsBucket.bucketArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_WRITE_ACTIONS, resources: [objects] }),
    );
    if (key) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: FILE_DEPLOYMENT_KMS_ACTIONS,
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${cdk.Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    acknowledgeGrantPolicy(this.role, 'the deploy-time copy of pipeline files');
    acknowledgeWildcardResources(
      this.role,
      [objects],
      'Writes the content-addressed pipeline files (code/, pipelines/, serving/) whose keys are computed at synthesis; no delete.',
    );
    let acknowledged = false;
    this.node.addValidation({
      validate: () => {
        if (acknowledged) return [];
        acknowledged = true;
        const handler = cdk.Stack.of(this).node.tryFindChild(BUCKET_DEPLOYMENT_HANDLER_ID);
        if (handler) acknowledgeBucketDeploymentHandler(handler);
        return [];
      },
    });
  }

  /** Wraps a source so that binding it grants this role read on its staged object's bucket. */
  public granting(source: s3deploy.ISource): s3deploy.ISource {
    return {
      bind: (scope, context) => {
        const config = source.bind(scope, context);
        const objects = config.bucket.arnForObjects('*');
        const key = JSON.stringify(cdk.Stack.of(this).resolve(objects));
        if (!this.sourceBuckets.has(key)) {
          this.sourceBuckets.add(key);
          this.role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_READ_ACTIONS, resources: [objects] }),
          );
          acknowledgeWildcardResources(
            this.role,
            [objects],
            'Reads the staged CDK assets, whose object keys are content hashes computed at synthesis.',
          );
        }
        return config;
      },
    };
  }
}

/** The id CDK gives the per-stack BucketDeployment handler (a singleton). */
const BUCKET_DEPLOYMENT_HANDLER_ID = 'Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C';

/** Acknowledges the findings on CDK's own BucketDeployment handler function, each with its reason. */
function acknowledgeBucketDeploymentHandler(handler: IConstruct): void {
  cdk.Validations.of(handler).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      "The runtime of CDK's BucketDeployment handler is set by aws-cdk-lib and moves with it; it only copies files.",
  });
  acknowledgeRegulatedRule(
    handler,
    'LambdaConcurrency',
    'Runs only during CloudFormation deployments, one invocation per file set; there is no concurrency to reserve.',
  );
  acknowledgeRegulatedRule(
    handler,
    'LambdaDLQ',
    'Invoked by CloudFormation, which waits for the response and fails the deployment on error; no event is lost.',
  );
  acknowledgeRegulatedRule(
    handler,
    'LambdaInsideVPC',
    'Copies files from the CDK asset bucket to the artifacts bucket at deploy time; it reaches only S3, nothing in the VPC.',
  );
}

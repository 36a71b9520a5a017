import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct, type IDependable } from 'constructs';
import { STUDIO_TEARDOWN_DELETE_ACTIONS, STUDIO_TEARDOWN_LIST_ACTIONS } from '../../iam/perms';
import { acknowledgeGrantPolicy, acknowledgeRegulatedRule, acknowledgeWildcardResources } from '../compliance';

/** Properties of a {@link StudioTeardown}. */
export interface StudioTeardownProps {
  /** The domain whose apps and spaces are deleted before it is. */
  readonly domain: sagemaker.CfnDomain;
  /**
   * Further resources that must outlive the teardown (the domain's user profiles): the teardown depends on
   * them and on the domain, so CloudFormation deletes it, and so runs it, first.
   * @default - only the domain
   */
  readonly dependsOn?: IDependable[];
  /**
   * Key for the function's log group.
   * @default - CloudWatch Logs' default encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Log retention of the function.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A custom resource that, when the stack (or the domain) is deleted, deletes every Studio app and space of
 * the domain and waits for them to go, so that CloudFormation's deletion of the user profiles and the domain
 * does not fail on running apps or leftover spaces. Create and Update do nothing.
 */
export class StudioTeardown extends Construct {
  public readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: StudioTeardownProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const domainId = props.domain.attrDomainId;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deletes the Studio apps and spaces of one domain before the domain is deleted',
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: STUDIO_TEARDOWN_LIST_ACTIONS,
        // ListApps and ListSpaces support no resource-level permissions.
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResources(
      role,
      ['*'],
      'sagemaker:ListApps and sagemaker:ListSpaces support no resource-level permissions; the calls filter by DomainIdEquals.',
    );
    const appsAndSpaces = [
      stack.formatArn({ service: 'sagemaker', resource: 'app', resourceName: `${domainId}/*` }),
      stack.formatArn({ service: 'sagemaker', resource: 'space', resourceName: `${domainId}/*` }),
    ];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: STUDIO_TEARDOWN_DELETE_ACTIONS, resources: appsAndSpaces }),
    );
    acknowledgeWildcardResources(
      role,
      appsAndSpaces,
      'Every app and space of this one domain must be deleted; their names are chosen by users at run time.',
    );
    acknowledgeGrantPolicy(role, "deleting this domain's apps and spaces and writing its own log group");
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, 'teardown-handler', 'index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      // deleting apps and then spaces can take several minutes; the handler reports failure before this.
      timeout: cdk.Duration.minutes(15),
      memorySize: 256,
      role,
      logGroup,
      description: 'Deletes Studio apps and spaces before the domain is deleted (custom resource)',
      bundling: { externalModules: ['@aws-sdk/*'], minify: true, sourceMap: false },
    });
    acknowledgeRegulatedRule(
      this.function,
      'LambdaInsideVPC',
      'The function only calls the SageMaker control plane and the CloudFormation response URL and touches no data; outside the VPC it leaves no Lambda ENIs that would delay deleting the VPC.',
    );
    acknowledgeRegulatedRule(
      this.function,
      'LambdaConcurrency',
      'Invoked only by CloudFormation, once per stack operation; reserving concurrency would take capacity from the account pool (new accounts have 10) for no benefit.',
    );
    acknowledgeRegulatedRule(
      this.function,
      'LambdaDLQ',
      'Invoked synchronously by CloudFormation, which receives the failure (FAILED response) and stops the deletion; a dead-letter queue would never be read.',
    );

    const resource = new cdk.CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::StudioTeardown',
      properties: { DomainId: domainId },
    });
    // the DomainId property already makes it depend on the domain.
    resource.node.addDependency(...(props.dependsOn ?? []));
    // the function's permissions must exist until the teardown has run on delete.
    resource.node.addDependency(role);
  }
}

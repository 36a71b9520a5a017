import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeGrantPolicy, acknowledgeRegulatedRule } from '../compliance';

/** Properties of an {@link ExecutionCheckFunction}. */
export interface ExecutionCheckFunctionProps {
  /** Key of the function's log group. @default - CloudWatch Logs' default encryption */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The function behind every recipe pipeline's first step (lib/pipeline/execution-check-step.ts): the recipe
 * rules bundled with esbuild (./handler.ts). It calls no AWS API, so its role may only write its own logs.
 */
export class ExecutionCheckFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ExecutionCheckFunctionProps = {}) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the recipe rules on a pipeline execution (writes its own logs only)',
    });
    logGroup.grantWrite(role);
    acknowledgeGrantPolicy(role, 'writing its own log group');
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: cdk.Duration.seconds(30),
      memorySize: 512,
      role,
      logGroup,
      description: 'Checks a recipe pipeline execution with the recipe rules before any instance starts',
      bundling: { externalModules: ['@aws-sdk/*'], minify: true, sourceMap: false },
    });
    acknowledgeRegulatedRule(
      this.function,
      'LambdaInsideVPC',
      'The function reads only its event and calls nothing: no data, no network access to guard.',
    );
    acknowledgeRegulatedRule(
      this.function,
      'LambdaConcurrency',
      'Invoked once per pipeline execution by SageMaker Pipelines; reserving concurrency would take capacity from the account pool for no benefit.',
    );
    acknowledgeRegulatedRule(
      this.function,
      'LambdaDLQ',
      'Invoked synchronously by the pipeline step, which receives any failure and fails the execution; a dead-letter queue would never be read.',
    );
  }

  /** Lets `grantee` (the pipeline role) invoke the function, and nothing else. */
  public grantInvoke(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
  }
}

import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { resourcePrefix } from '../../config/naming';
import type { ServingStageProps } from '../workflow/stage-props';

/** Thresholds of the per-endpoint rollback alarms the deploy machine puts before create/update. */
export interface EndpointAlarmSettings {
  /**
   * `Invocation5XXErrors` (Sum per minute) at or above which a minute breaches.
   * @default 5
   */
  readonly errorsPerMinute?: number;
  /**
   * `ModelLatency` p90 at or above which a minute breaches (LLM generation is slow: a full answer takes seconds).
   * @default cdk.Duration.seconds(60)
   */
  readonly p90Latency?: cdk.Duration;
}

/** Props of {@link DeployModel}: the settings' `deploy` half is read by model package group name. */
export interface DeployModelProps extends ServingStageProps {
  /** SageMaker assumes it to serve the model (see ServingModelRole). */
  readonly modelRole: iam.IRole;
  /** Data capture destination (`s3://<bucket>/<dataCapturePrefix><endpoint>/`), encrypted with its key. */
  readonly artifactsBucket: s3.IBucket;
  /** Key prefix of endpoint data capture in the artifacts bucket. */
  readonly dataCapturePrefix: string;
  /** Subnets of the model's VpcConfig. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Security group of the model's VpcConfig. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * Rollback alarm thresholds.
   * @default - 5 errors per minute; p90 model latency 60 s
   */
  readonly alarms?: EndpointAlarmSettings;
  /**
   * Time between two DescribeEndpoint polls.
   * @default cdk.Duration.minutes(1)
   */
  readonly pollInterval?: cdk.Duration;
  /**
   * Polls before the deployment is reported as timed out (120 × 1 min: a 234 GB model loads slowly).
   * @default 120
   */
  readonly maxPolls?: number;
  /**
   * Blue/green baking period: the new fleet takes all traffic while the rollback alarms are watched.
   * @default cdk.Duration.minutes(10)
   */
  readonly bakeTime?: cdk.Duration;
  /**
   * Target-tracking value: invocations per instance per minute (LLM requests are long; keep it low).
   * @default 10
   */
  readonly targetInvocationsPerInstance?: number;
}

/** The ARN patterns the DEPLOY machine may act on: everything it creates is named `<prefix>-*`. */
export interface DeployArns {
  readonly modelPackages: string;
  readonly models: string[];
  readonly configs: string[];
  readonly endpoints: string[];
  readonly alarms: string[];
  /** Scalable targets and policies have generated ids; they cannot be named in a policy. */
  readonly scalableTargets: string;
  /** Target tracking names its alarms `TargetTracking-endpoint/<name>/...`. */
  readonly targetTrackingAlarms: string;
}

/** What every phase of the DEPLOY machine reads: the props with their defaults applied, and the ARNs. */
export interface DeployContext {
  readonly props: DeployModelProps;
  readonly prefix: string;
  readonly arns: DeployArns;
  readonly pollInterval: cdk.Duration;
  readonly maxPolls: number;
  readonly bakeSeconds: number;
}

/** The context of a DeployModel in `scope`. */
export function deployContext(scope: Construct, props: DeployModelProps): DeployContext {
  const stack = cdk.Stack.of(scope);
  const prefix = resourcePrefix(props.naming);
  const sm = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'sagemaker', resource, resourceName });
  const alarm = (resourceName: string) =>
    stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName,
      arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
    });
  return {
    props,
    prefix,
    arns: {
      modelPackages: sm('model-package', `${prefix}-*/*`),
      models: [sm('model', `${prefix}-*`)],
      configs: [sm('endpoint-config', `${prefix}-*`)],
      endpoints: [sm('endpoint', `${prefix}-*`)],
      alarms: [alarm(`${prefix}-*`)],
      scalableTargets: stack.formatArn({
        service: 'application-autoscaling',
        resource: 'scalable-target',
        resourceName: '*',
      }),
      targetTrackingAlarms: alarm('TargetTracking-endpoint/*'),
    },
    pollInterval: props.pollInterval ?? cdk.Duration.minutes(1),
    maxPolls: props.maxPolls ?? 120,
    bakeSeconds: (props.bakeTime ?? cdk.Duration.minutes(10)).toSeconds(),
  };
}

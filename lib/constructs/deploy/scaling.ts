import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  AUTOSCALING_ACTIONS,
  AUTOSCALING_ALARM_ACTIONS,
  AUTOSCALING_ENDPOINT_ACTIONS,
  AUTOSCALING_SERVICE_LINKED_ROLE_ACTIONS,
} from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import type { DeployContext } from './context';
import { names, recordScalingNote, scalingError, settings } from './state';

/** Application Auto Scaling's id of the endpoint variant (the scalable target). */
export function scalableVariant(): Record<string, string> {
  return {
    ServiceNamespace: 'sagemaker',
    ResourceId: names.string('scalingResourceId'),
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
  };
}

/** True when the recipe asks for more than its minimum instance count. */
export function scales(): sfn.Condition {
  return sfn.Condition.numberGreaterThanJsonPath(settings.path('maxInstances'), settings.path('minInstances'));
}

/** RegisterScalableTarget + PutScalingPolicy (target tracking on invocations per instance). */
export interface ScalingTasks {
  readonly first: sfn.TaskStateBase;
  readonly last: sfn.TaskStateBase;
  /** Sends the errors of both tasks to `next`, with the error at `path`. */
  catchTo(next: sfn.IChainable, path?: string): void;
}

export function scalingTasks(scope: Construct, name: string, ctx: DeployContext): ScalingTasks {
  const register = awsCall(scope, `${name}: target`, {
    service: 'applicationautoscaling',
    action: 'registerScalableTarget',
    parameters: {
      ...scalableVariant(),
      MinCapacity: settings.number('minInstances'),
      MaxCapacity: settings.number('maxInstances'),
    },
    iamResources: [ctx.arns.scalableTargets],
    iamAction: 'application-autoscaling:RegisterScalableTarget',
  });
  const policy = awsCall(scope, `${name}: policy`, {
    service: 'applicationautoscaling',
    action: 'putScalingPolicy',
    parameters: {
      ...scalableVariant(),
      PolicyName: sfn.JsonPath.format('{}-invocations-per-instance', settings.string('endpointName')),
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: ctx.props.targetInvocationsPerInstance ?? 10,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 600,
        ScaleOutCooldown: 300,
      },
    },
    iamResources: [ctx.arns.scalableTargets],
    iamAction: 'application-autoscaling:PutScalingPolicy',
  });
  register.next(policy);
  return {
    first: register,
    last: policy,
    catchTo: (next, path = scalingError.root) => {
      register.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: path });
      policy.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: path });
    },
  };
}

/**
 * After a passed smoke test: register autoscaling when the recipe scales (a failure there is a warning in
 * the success notice, not a failed deployment), note the capacity, then `next` (the success notice).
 */
export function autoscalingPhase(scope: Construct, ctx: DeployContext, next: sfn.IChainable): sfn.IChainable {
  const tasks = scalingTasks(scope, 'Register autoscaling', ctx);
  const registered = recordScalingNote(
    scope,
    'Scaling note: registered',
    sfn.JsonPath.format(
      'Autoscaling: {} to {} instances, target tracking on invocations per instance.',
      settings.string('minInstances'),
      settings.string('maxInstances'),
    ),
  );
  const fixed = recordScalingNote(
    scope,
    'Scaling note: fixed',
    sfn.JsonPath.format('Fixed capacity: {} instance(s).', settings.string('minInstances')),
  );
  const failed = recordScalingNote(
    scope,
    'Scaling note: failed',
    sfn.JsonPath.format(
      'WARNING: autoscaling was not registered ({}); the endpoint runs {} instance(s).',
      scalingError.string('Cause'),
      settings.string('minInstances'),
    ),
  );
  tasks.last.next(registered);
  tasks.catchTo(failed, scalingError.root);
  for (const note of [registered, fixed, failed]) note.next(next);
  return new sfn.Choice(scope, 'Autoscaling?').when(scales(), tasks.first).otherwise(fixed);
}

/** The endpoint-side permissions Application Auto Scaling checks on the caller, and its service-linked role. */
export function grantAutoscaling(stateMachine: sfn.StateMachine, ctx: DeployContext): void {
  const stack = stateMachine.stack;
  stateMachine.addToRolePolicy(
    // scalable targets and policies have generated ids.
    new iam.PolicyStatement({ actions: AUTOSCALING_ACTIONS, resources: [ctx.arns.scalableTargets] }),
  );
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: AUTOSCALING_ENDPOINT_ACTIONS,
      resources: [...ctx.arns.endpoints, ...ctx.arns.configs],
    }),
  );
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({ actions: AUTOSCALING_ALARM_ACTIONS, resources: [ctx.arns.targetTrackingAlarms] }),
  );
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: AUTOSCALING_SERVICE_LINKED_ROLE_ACTIONS,
      resources: [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName:
            'aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
        }),
      ],
      conditions: { StringLike: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
    }),
  );
}

import * as cdk from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { registerRoleName, resourcePrefix } from '../../config/naming';
import { DEFAULT_VLLM_IMAGE, servingImageUri } from '../../recipes/serving-plan';
import { acknowledgeGrantPolicy } from '../compliance';
import { grantWatch } from '../workflow/event-trigger';
import { recordCaughtFailure } from '../workflow/failures';
import { servingStageMachine } from '../workflow/serving-stage';
import type { ServingStageProps } from '../workflow/stage-props';
import type { StateFields } from '../workflow/state-paths';
import { duplicateCheckPhase } from './duplicate-check';
import { modelPackagePhase } from './model-package';
import { failureNotice, registeredNotice } from './notices';
import { provenancePhase } from './provenance';
import { grantRegistryCopy, registryCopyPhase } from './registry-copy';
import { detail, recipe, run, type RunFacts } from './state';
import { trainingJobPhase } from './training-job';

/** EventBridge detail-type of a finished SageMaker pipeline execution. */
export const PIPELINE_EXECUTION_STATUS_CHANGE = 'SageMaker Model Building Pipeline Execution Status Change';

/** Props of {@link RegisterModel}: the settings' `register` half is read by pipeline name. */
export interface RegisterModelProps extends ServingStageProps {
  /** Holds the jobs' model output (`models/`) and the registry copies (`registry/`). */
  readonly artifactsBucket: s3.IBucket;
}

/**
 * The REGISTER stage: when one of this deployment's SageMaker pipelines succeeds, find its training job,
 * create a model package version in the recipe's group (vLLM serving container, uncompressed model prefix,
 * provenance metadata, the recipe's approval status) and notify SNS. Duplicate events register once.
 *
 * Flow: parse event → read the recipe's settings object (none: not ours) → skip if a package already names
 * this execution → list steps → describe the training job → model prefix + metadata → CreateModelPackage
 * (ClientToken = MD5 of the execution ARN) → SNS. Any failure → SNS notice naming the step → Fail. Each
 * phase is one file of this folder; the constructor chains them, last phase first.
 *
 * Output of a registration: `{ ModelPackageArn, ModelPackageVersion, ModelPackageGroupName,
 * ModelApprovalStatus, PipelineExecutionArn, Recipe }` (what the CLI's `watch` follows).
 */
export class RegisterModel extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly rule: events.Rule;
  /** The workflow's role, named so the artifacts bucket policy can admit it alone to the registry prefix. */
  public readonly role: iam.Role;
  /** Alarm on failed executions (wired to the topic). */
  public readonly failedExecutionsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RegisterModelProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const prefix = resourcePrefix(props.naming);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    const arns = {
      executions: arn('pipeline', `${prefix}-*/execution/*`),
      trainingJobs: arn('training-job', 'pipelines-*'),
      packages: arn('model-package', `${prefix}-*/*`),
      groups: arn('model-package-group', `${prefix}-*`),
    };

    this.role = new iam.Role(this, 'Role', {
      roleName: registerRoleName(props.naming),
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `${prefix}: the REGISTER workflow, the only writer of the model registry prefix`,
    });
    acknowledgeGrantPolicy(this.role, 'the REGISTER workflow (task integrations and the registry copy)');
    const notifyFailure = failureNotice(this, props.topic);
    const createPackage = modelPackagePhase(this, arns, registeredNotice(this, props.topic), notifyFailure, (then) =>
      registryCopyPhase(this, props.artifactsBucket, then, notifyFailure),
    );
    const trainingJob = trainingJobPhase(this, arns, provenancePhase(this, createPackage), notifyFailure);
    const afterLookup = duplicateCheckPhase(this, trainingJob, notifyFailure);

    const stage = servingStageMachine(this, props, {
      stage: 'register',
      definition: this.start(props, afterLookup, notifyFailure),
      // copying a 120b model (about 65 GB) file by file inside S3 takes minutes, not hours.
      timeout: cdk.Duration.hours(2),
      role: this.role,
      comment: 'Registers the model of a succeeded fine-tuning pipeline execution as a model package version.',
      grant: (stateMachine) => grantRegistryCopy(stateMachine, props.artifactsBucket),
      wildcardResources: [arns.executions, arns.trainingJobs, arns.packages, arns.groups],
      wildcardReason:
        "Pipeline executions, the training jobs SageMaker Pipelines names 'pipelines-<execution>-...', and model package versions are created at run time; every pattern is limited to this deployment's name prefix (one group and pipeline per recipe).",
      trigger: {
        id: 'PipelineSucceeded',
        description: `${prefix}: a fine-tuning pipeline execution succeeded; register its model`,
        detailType: PIPELINE_EXECUTION_STATUS_CHANGE,
        detail: {
          currentPipelineExecutionStatus: ['Succeeded'],
          pipelineArn: [{ prefix: arn('pipeline', `${prefix}-`) }],
        },
      },
    });
    this.stateMachine = stage.stateMachine;
    this.failedExecutionsAlarm = stage.failedExecutionsAlarm;
    this.rule = stage.rule;
  }

  /** Lets `grantee` start executions and read their history (the CLI's `watch`). */
  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantWatch(this.stateMachine, grantee);
  }

  /**
   * Event → the recipe's settings (by pipeline name; none: not ours) → the serving image (the vLLM DLC's
   * URI depends on the region, so the settings objects name only custom images) → `next`.
   */
  private start(props: RegisterModelProps, next: sfn.IChainable, notifyFailure: sfn.IChainable): sfn.IChainable {
    const stack = cdk.Stack.of(this);
    const parse = new sfn.Pass(this, 'Parse event', {
      comment: 'pipelineArn is arn:...:pipeline/<name>; names are lowercase (naming.ts).',
      parameters: {
        pipelineArn: detail.string('pipelineArn'),
        executionArn: detail.string('pipelineExecutionArn'),
        pipelineName: sfn.JsonPath.arrayGetItem(sfn.JsonPath.stringSplit(detail.string('pipelineArn'), '/'), 1),
      } satisfies StateFields<RunFacts>,
      resultPath: run.root,
    });
    const defaultImage = new sfn.Pass(this, 'Use the vLLM DLC', {
      result: sfn.Result.fromString(
        servingImageUri({ kind: 'dlc', ...DEFAULT_VLLM_IMAGE }, stack.region, stack.urlSuffix),
      ),
      resultPath: recipe.path('image'),
    });
    defaultImage.next(next);
    return parse.next(
      props.settings.lookup(this, {
        namePath: run.path('pipelineName'),
        section: 'register',
        resultPath: recipe.root,
        next: new sfn.Choice(this, 'Custom serving image?')
          .when(sfn.Condition.isPresent(recipe.path('image')), next)
          .otherwise(defaultImage),
        otherwise: new sfn.Succeed(this, 'Not a recipe pipeline', {
          comment: 'The name has this deployment prefix but no recipe (removed, or another stage); nothing to do.',
        }),
        onError: (step) => recordCaughtFailure(this, step).next(notifyFailure),
      }),
    );
  }
}

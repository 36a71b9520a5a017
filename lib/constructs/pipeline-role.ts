import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { denyApproval } from '../iam/approval';
import { PIPELINE_TRAINING_JOB_ACTIONS } from '../iam/training-perms';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from './compliance';
import type { TrainingJobRole } from './training-role';

/** Properties of a {@link PipelineExecutionRole}. */
export interface PipelineExecutionRoleProps {
  /** The role the pipeline's training jobs run as (passed to SageMaker by this role). */
  readonly trainingJobRole: TrainingJobRole;
}

/**
 * The role SageMaker Pipelines assumes to run the recipe pipelines: start, watch, stop and tag the training
 * jobs of their Training steps and pass them the training job role. Condition and Fail steps need nothing.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-access.html
 */
export class PipelineExecutionRole extends Construct implements iam.IGrantable {
  public readonly role: iam.Role;
  public readonly roleArn: string;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: PipelineExecutionRoleProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    this.role = new iam.Role(this, 'Resource', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: 'Execution role of the recipe pipelines (SageMaker Pipelines)',
    });
    this.roleArn = this.role.roleArn;
    this.grantPrincipal = this.role;

    const trainingJobs = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: 'pipelines-*',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: PIPELINE_TRAINING_JOB_ACTIONS, resources: [trainingJobs] }),
    );
    props.trainingJobRole.grantPassRole(this.role);
    denyApproval(this.role);
    acknowledgeGrantPolicy(this.role, 'the recipe pipelines');
    acknowledgeWildcardResources(
      this.role,
      [trainingJobs],
      'SageMaker Pipelines names each training job pipelines-<execution id>-<step>-<suffix> when the step starts; the grant covers only jobs named so.',
    );
  }
}

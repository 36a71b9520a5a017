import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { denyApproval } from '../iam/approval';
import { CREATE_TRAINING_JOB_ACTION, PIPELINE_TRAINING_JOB_ACTIONS } from '../iam/training-perms';
import { hasLocalInstanceStorage, INSTANCE_CATALOG, isGpuTrainingInstance } from '../recipes/instance-catalog';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from './compliance';
import type { TrainingJobRole } from './training-role';

/** Properties of a {@link PipelineExecutionRole}. */
export interface PipelineExecutionRoleProps {
  /** The role the pipeline's training jobs run as (passed to SageMaker by this role). */
  readonly trainingJobRole: TrainingJobRole;
  /** What every training job this role creates must use: the platform's subnets, security groups and key. */
  readonly jobs: TrainingJobBounds;
}

/** The bounds IAM puts on each CreateTrainingJob of the pipeline role (lib/iam/training-perms.ts names the keys). */
export interface TrainingJobBounds {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** The platform key: output always, volume on EBS-only instance types. */
  readonly kmsKeyArn: string;
  /** The stage ceiling on MaxRuntimeInSeconds (app config `guardrails.maxRuntimeSeconds`). */
  readonly maxRuntimeSeconds: number;
  /**
   * Instance types jobs may use.
   * @default - the GPU training types of lib/recipes/instance-catalog.ts with bf16 (what the recipe check accepts)
   */
  readonly instanceTypes?: readonly string[];
}

/** The catalog's bf16 GPU training types: the recipe check refuses the others (training-instance, bf16-unsupported). */
export function allowedTrainingInstanceTypes(): string[] {
  return Object.values(INSTANCE_CATALOG)
    .filter((i) => isGpuTrainingInstance(i) && i.gpu?.bf16 === true)
    .map((i) => i.instanceType)
    .sort();
}

/**
 * The CreateTrainingJob statements: one for instance types with local NVMe storage (no volume key: SageMaker
 * rejects one there) and one for EBS-only types (the platform key on the volume). Both require the listed
 * instance types, the platform's subnets and security groups, the platform key on the output and a runtime
 * under the ceiling; a request without any of those keys is not allowed.
 */
export function createTrainingJobStatements(jobs: TrainingJobBounds, resources: string[]): iam.PolicyStatement[] {
  const types = jobs.instanceTypes ?? allowedTrainingInstanceTypes();
  const statement = (instanceTypes: string[], volume: Record<string, Record<string, unknown>>) =>
    new iam.PolicyStatement({
      actions: [CREATE_TRAINING_JOB_ACTION],
      resources,
      conditions: {
        'ForAllValues:StringEquals': {
          'sagemaker:InstanceTypes': instanceTypes,
          'sagemaker:VpcSubnets': [...jobs.subnetIds],
          'sagemaker:VpcSecurityGroupIds': [...jobs.securityGroupIds],
        },
        Null: {
          'sagemaker:InstanceTypes': 'false',
          'sagemaker:VpcSubnets': 'false',
          'sagemaker:VpcSecurityGroupIds': 'false',
          'sagemaker:OutputKmsKeyArn': 'false',
          'sagemaker:MaxRuntimeInSeconds': 'false',
          ...volume.Null,
        },
        ArnEquals: { 'sagemaker:OutputKmsKeyArn': jobs.kmsKeyArn, ...volume.ArnEquals },
        NumericLessThanEquals: { 'sagemaker:MaxRuntimeInSeconds': jobs.maxRuntimeSeconds },
      },
    });
  const nvme = types.filter(hasLocalInstanceStorage);
  const ebs = types.filter((t) => !hasLocalInstanceStorage(t));
  return [
    ...(nvme.length > 0 ? [statement(nvme, { Null: { 'sagemaker:VolumeKmsKeyArn': 'true' } })] : []),
    ...(ebs.length > 0
      ? [
          statement(ebs, {
            Null: { 'sagemaker:VolumeKmsKeyArn': 'false' },
            ArnEquals: { 'sagemaker:VolumeKmsKeyArn': jobs.kmsKeyArn },
          }),
        ]
      : []),
  ];
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
    for (const statement of createTrainingJobStatements(props.jobs, [trainingJobs])) {
      this.role.addToPrincipalPolicy(statement);
    }
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

import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { denyApproval } from '../../iam/approval';
import {
  MLFLOW_APP_API_ACTIONS,
  MLFLOW_APP_VIEW_ACTIONS,
  MLFLOW_MODEL_REGISTRATION_ACTIONS,
  MLFLOW_TRACKING_LOGGING_ACTIONS,
  MLFLOW_TRACKING_READ_ACTIONS,
  MLFLOW_TRACKING_SERVER_VIEW_ACTIONS,
  MLFLOW_TRACKING_UI_ACTIONS,
} from '../../iam/perms';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from '../compliance';
import { grantObjectsRead, grantObjectsReadWrite } from '../data/bucket-grants';

/** Which SageMaker managed MLflow to run. */
export type MlflowKind = 'tracking-server' | 'serverless-app';

/** A SageMaker managed MLflow, as the training and Studio sides see it. */
export interface IMlflow {
  /** What runs behind {@link arn}. */
  readonly kind: MlflowKind;
  /**
   * The tracking URI for the `sagemaker-mlflow` plugin (`MLFLOW_TRACKING_URI`): the tracking server or
   * MLflow App ARN.
   */
  readonly arn: string;
  /** Where artifacts are stored: `s3://<artifacts bucket>/mlflow/`. */
  readonly artifactStoreUri: string;
  /**
   * What a training job needs to log runs: create its experiment and run, log params/metrics/tags/inputs/
   * models, and read/write artifacts under the artifact prefix (the MLflow client uploads straight to S3).
   */
  grantLogging(grantee: iam.IGrantable): iam.Grant;
  /** What a Studio user needs to open the MLflow UI and browse experiments, runs and models (no writes). */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/** Properties of a {@link ManagedMlflow}. */
export interface ManagedMlflowProps {
  /**
   * Name of the tracking server or MLflow App (create-only: a change replaces it).
   */
  readonly name: string;
  /** Bucket of the artifact store. */
  readonly artifactsBucket: s3.IBucket;
  /**
   * Key prefix of the artifact store in `artifactsBucket`; must end in `/`.
   * @default 'mlflow/'
   */
  readonly artifactsPrefix?: string;
  /**
   * The managed tracking server (billed per hour, granular `sagemaker-mlflow:` IAM actions) or the
   * serverless MLflow App (one `sagemaker:CallMlflowAppApi` action for reads and writes alike).
   * @default 'tracking-server'
   * @see https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow.html
   */
  readonly kind?: MlflowKind;
  /**
   * Tracking server size: Small (up to 25 users), Medium (50), Large (100). Ignored for the MLflow App.
   * @default 'Small'
   */
  readonly size?: 'Small' | 'Medium' | 'Large';
  /**
   * Weekly maintenance window start, `Ddd:HH:MM` in UTC.
   * @default 'Sun:03:00'
   */
  readonly weeklyMaintenanceWindowStart?: string;
  /**
   * Register MLflow registered models in the SageMaker Model Registry automatically. Grants the service
   * role the model-package actions it needs for that.
   * @default false
   */
  readonly automaticModelRegistration?: boolean;
}

/**
 * SageMaker managed MLflow with its own service role: a `AWS::SageMaker::MlflowTrackingServer` or, with
 * `kind: 'serverless-app'`, an `AWS::SageMaker::MlflowApp`. The service role can read and write only the
 * artifact prefix (and, with automatic registration, create model packages).
 */
export class ManagedMlflow extends Construct implements IMlflow {
  public readonly kind: MlflowKind;
  public readonly arn: string;
  public readonly artifactStoreUri: string;
  /** The role the MLflow service assumes to reach the artifact store (and the Model Registry). */
  public readonly serviceRole: iam.Role;
  private readonly artifactsBucket: s3.IBucket;
  private readonly artifactsPrefix: string;

  constructor(scope: Construct, id: string, props: ManagedMlflowProps) {
    super(scope, id);
    this.kind = props.kind ?? 'tracking-server';
    this.artifactsBucket = props.artifactsBucket;
    this.artifactsPrefix = props.artifactsPrefix ?? 'mlflow/';
    if (!this.artifactsPrefix.endsWith('/')) {
      throw new Error(`ManagedMlflow ${this.node.path}: artifactsPrefix "${this.artifactsPrefix}" must end in "/"`);
    }
    this.artifactStoreUri = `s3://${props.artifactsBucket.bucketName}/${this.artifactsPrefix}`;
    const automaticModelRegistration = props.automaticModelRegistration ?? false;
    const weeklyMaintenanceWindowStart = props.weeklyMaintenanceWindowStart ?? 'Sun:03:00';

    this.serviceRole = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `SageMaker managed MLflow ${props.name}: artifact store under ${this.artifactsPrefix}`,
    });
    const artifactsGrant = grantObjectsReadWrite(props.artifactsBucket, this.serviceRole, this.artifactsPrefix);
    if (automaticModelRegistration) {
      const stack = cdk.Stack.of(this);
      // the group is named after the MLflow registered model, which users choose at run time.
      const registry = [
        stack.formatArn({ service: 'sagemaker', resource: 'model-package-group', resourceName: '*' }),
        stack.formatArn({ service: 'sagemaker', resource: 'model-package', resourceName: '*' }),
      ];
      this.serviceRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...MLFLOW_MODEL_REGISTRATION_ACTIONS, 'sagemaker:AddTags'],
          resources: registry,
        }),
      );
      acknowledgeWildcardResources(
        this.serviceRole,
        registry,
        'Automatic model registration (opted into in config) creates a model package group named after each MLflow registered model, a name users choose at run time.',
      );
    }
    denyApproval(this.serviceRole);
    acknowledgeGrantPolicy(this.serviceRole, 'the MLflow artifact store prefix (and Model Registry writes)');
    if (this.kind === 'tracking-server') {
      // distinct ids per kind: CloudFormation cannot change a resource's type in place, so switching kind
      // creates the new MLflow and deletes the old one (runs are not migrated).
      const server = new sagemaker.CfnMlflowTrackingServer(this, 'TrackingServer', {
        trackingServerName: props.name,
        artifactStoreUri: this.artifactStoreUri,
        roleArn: this.serviceRole.roleArn,
        trackingServerSize: props.size ?? 'Small',
        weeklyMaintenanceWindowStart,
        automaticModelRegistration,
      });
      artifactsGrant.applyBefore(server);
      this.retain(server);
      this.arn = server.attrTrackingServerArn;
    } else {
      const app = new sagemaker.CfnMlflowApp(this, 'App', {
        name: props.name,
        artifactStoreUri: this.artifactStoreUri,
        roleArn: this.serviceRole.roleArn,
        weeklyMaintenanceWindowStart,
        modelRegistrationMode: automaticModelRegistration
          ? 'AutoModelRegistrationEnabled'
          : 'AutoModelRegistrationDisabled',
      });
      artifactsGrant.applyBefore(app);
      this.retain(app);
      this.arn = app.attrArn;
    }
  }

  /**
   * The experiment history outlives `cdk destroy` (like the model package groups and the data stack): the
   * MLflow resource and the role it reaches the artifact store with are retained. A retained tracking server
   * keeps its hourly charge until deleted by hand, and a redeploy with the same name needs it deleted or
   * imported first.
   */
  private retain(resource: cdk.CfnResource): void {
    resource.applyRemovalPolicy(cdk.RemovalPolicy.RETAIN);
    this.serviceRole.applyRemovalPolicy(cdk.RemovalPolicy.RETAIN);
    // the role's grants live in its default policy, a resource of its own.
    const policy = this.serviceRole.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
    if (policy instanceof cdk.CfnResource) policy.applyRemovalPolicy(cdk.RemovalPolicy.RETAIN);
  }

  public grantLogging(grantee: iam.IGrantable): iam.Grant {
    const actions = this.kind === 'tracking-server' ? MLFLOW_TRACKING_LOGGING_ACTIONS : MLFLOW_APP_API_ACTIONS;
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.arn] });
    // the MLflow client uploads artifacts straight to the artifact store.
    return grant.combine(grantObjectsReadWrite(this.artifactsBucket, grantee, this.artifactsPrefix));
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const actions =
      this.kind === 'tracking-server'
        ? [...MLFLOW_TRACKING_READ_ACTIONS, ...MLFLOW_TRACKING_SERVER_VIEW_ACTIONS]
        : [...MLFLOW_APP_API_ACTIONS, ...MLFLOW_APP_VIEW_ACTIONS];
    let grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.arn] });
    if (this.kind === 'tracking-server') {
      // AccessUI supports no resource-level permissions; the UI is opened through the presigned URL above.
      grant = grant.combine(
        iam.Grant.addToPrincipal({ grantee, actions: MLFLOW_TRACKING_UI_ACTIONS, resourceArns: ['*'] }),
      );
    }
    return grant.combine(grantObjectsRead(this.artifactsBucket, grantee, this.artifactsPrefix));
  }
}

/**
 * Plausible values for resource references: what `Ref` and `Fn::GetAtt` of each resource type resolve to, so
 * parliament sees ARNs of the right shape.
 */

interface RefContext {
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly props: Record<string, unknown>;
  /** A lowercase physical name derived from the stack and logical id, or the name property if set. */
  readonly name: string;
}

type RefFn = (c: RefContext) => string;

interface ResourceShape {
  /** Property holding the physical name, when the template may set it. */
  readonly nameProperty?: string;
  readonly ref: RefFn;
  readonly attrs: Readonly<Record<string, RefFn>>;
}

const arn = (service: string, c: RefContext, resource: string, regional = true): string =>
  `arn:aws:${service}:${regional ? c.region : ''}:${c.account}:${resource}`;
const hex = (c: RefContext, n: number): string => {
  let h = 0;
  for (const ch of `${c.stackName}/${c.logicalId}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(4).slice(0, n);
};
const keyId = (c: RefContext): string => {
  const h = hex(c, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/**
 * How `Ref` and `Fn::GetAtt` resolve for each resource type (the values CloudFormation documents). Add a
 * type here when a policy references one that is missing; the lint names the type and attribute it needs.
 */
export const SHAPES: Readonly<Record<string, ResourceShape>> = {
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => `arn:aws:s3:::${c.name}`, DomainName: (c) => `${c.name}.s3.amazonaws.com` },
  },
  'AWS::KMS::Key': {
    ref: keyId,
    attrs: { Arn: (c) => arn('kms', c, `key/${keyId(c)}`), KeyId: keyId },
  },
  'AWS::KMS::Alias': { nameProperty: 'AliasName', ref: (c) => c.name, attrs: {} },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('iam', c, `role/${c.name}`, false), RoleId: (c) => `AROA${hex(c, 16).toUpperCase()}` },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    ref: (c) => arn('iam', c, `policy/${c.name}`, false),
    attrs: { PolicyArn: (c) => arn('iam', c, `policy/${c.name}`, false) },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('lambda', c, `function:${c.name}`) },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('logs', c, `log-group:${c.name}:*`) },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: (c) => arn('sns', c, c.name),
    attrs: { TopicArn: (c) => arn('sns', c, c.name), TopicName: (c) => c.name },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: (c) => `https://sqs.${c.region}.amazonaws.com/${c.account}/${c.name}`,
    attrs: { Arn: (c) => arn('sqs', c, c.name), QueueName: (c) => c.name },
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    ref: (c) => arn('states', c, `stateMachine:${c.name}`),
    attrs: { Arn: (c) => arn('states', c, `stateMachine:${c.name}`), Name: (c) => c.name },
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('events', c, `rule/${c.name}`) },
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('cloudwatch', c, `alarm:${c.name}`) },
  },
  'AWS::EC2::VPC': {
    ref: (c) => `vpc-${hex(c, 17)}`,
    attrs: {
      VpcId: (c) => `vpc-${hex(c, 17)}`,
      CidrBlock: () => '10.0.0.0/16',
      DefaultSecurityGroup: (c) => `sg-${hex(c, 17)}`,
    },
  },
  'AWS::EC2::Subnet': { ref: (c) => `subnet-${hex(c, 17)}`, attrs: { SubnetId: (c) => `subnet-${hex(c, 17)}` } },
  'AWS::EC2::SecurityGroup': { ref: (c) => `sg-${hex(c, 17)}`, attrs: { GroupId: (c) => `sg-${hex(c, 17)}` } },
  'AWS::EC2::VPCEndpoint': { ref: (c) => `vpce-${hex(c, 17)}`, attrs: { Id: (c) => `vpce-${hex(c, 17)}` } },
  'AWS::SageMaker::Domain': {
    ref: (c) => `d-${hex(c, 12)}`,
    attrs: {
      DomainId: (c) => `d-${hex(c, 12)}`,
      DomainArn: (c) => arn('sagemaker', c, `domain/d-${hex(c, 12)}`),
      HomeEfsFileSystemId: (c) => `fs-${hex(c, 17)}`,
      SecurityGroupIdForDomainBoundary: (c) => `sg-${hex(c, 17)}`,
    },
  },
  'AWS::SageMaker::UserProfile': {
    nameProperty: 'UserProfileName',
    ref: (c) => c.name,
    attrs: { UserProfileArn: (c) => arn('sagemaker', c, `user-profile/d-${hex(c, 12)}/${c.name}`) },
  },
  'AWS::SageMaker::MlflowTrackingServer': {
    nameProperty: 'TrackingServerName',
    ref: (c) => c.name,
    attrs: { TrackingServerArn: (c) => arn('sagemaker', c, `mlflow-tracking-server/${c.name}`) },
  },
  'AWS::SageMaker::MlflowApp': {
    ref: (c) => arn('sagemaker', c, `mlflow-app/app-${hex(c, 12).toUpperCase()}`),
    attrs: {
      Arn: (c) => arn('sagemaker', c, `mlflow-app/app-${hex(c, 12).toUpperCase()}`),
      MlflowAppId: (c) => `app-${hex(c, 12).toUpperCase()}`,
    },
  },
  'AWS::SageMaker::Pipeline': { nameProperty: 'PipelineName', ref: (c) => c.name, attrs: {} },
  'AWS::SageMaker::ModelPackageGroup': {
    nameProperty: 'ModelPackageGroupName',
    ref: (c) => arn('sagemaker', c, `model-package-group/${c.name}`),
    attrs: { ModelPackageGroupArn: (c) => arn('sagemaker', c, `model-package-group/${c.name}`) },
  },
  'AWS::SageMaker::Model': {
    nameProperty: 'ModelName',
    ref: (c) => arn('sagemaker', c, `model/${c.name}`),
    attrs: { ModelName: (c) => c.name },
  },
  'AWS::SageMaker::EndpointConfig': {
    nameProperty: 'EndpointConfigName',
    ref: (c) => arn('sagemaker', c, `endpoint-config/${c.name}`),
    attrs: { EndpointConfigName: (c) => c.name },
  },
  'AWS::SageMaker::Endpoint': {
    nameProperty: 'EndpointName',
    ref: (c) => arn('sagemaker', c, `endpoint/${c.name}`),
    attrs: { EndpointName: (c) => c.name },
  },
  'AWS::ECR::Repository': {
    nameProperty: 'RepositoryName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('ecr', c, `repository/${c.name}`) },
  },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    ref: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`),
    attrs: { Id: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`) },
  },
  'AWS::CodeBuild::Project': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('codebuild', c, `project/${c.name}`) },
  },
  'AWS::CodePipeline::Pipeline': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('dynamodb', c, `table/${c.name}`) },
  },
};

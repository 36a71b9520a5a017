import * as crypto from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './local-values';
import type { RefValues } from './state-machine';

/**
 * What CloudFormation would give the resources of the synthesized stacks, chosen for the local emulator: for
 * each `Ref` / `Fn::GetAtt` (and `Fn::GetStackOutput` of another stack's output) a value of the right shape.
 * Names follow localDeployValues (lib/local/local-values.ts): a bucket with logical id `Artifacts…` is
 * `<prefix>-artifacts-local`, the bucket the pipeline's deploy-time values name.
 */

type Obj = Record<string, unknown>;
type Resource = { Type: string; Properties?: Obj };
export type StackTemplate = { Resources?: Record<string, Resource>; Outputs?: Record<string, { Value: unknown }> };

/** The logical id without CDK's 8-hex-digit hash, lower-cased: `Artifacts82DD59A1` → `artifacts`. */
function baseName(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '').toLowerCase();
}

function hex(logicalId: string, length: number): string {
  return crypto.createHash('sha256').update(logicalId).digest('hex').slice(0, length);
}

const arn = (service: string, resource: string): string =>
  `arn:aws:${service}:${service === 'iam' ? '' : LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

/** `Ref` and attribute values of one resource, by type; undefined for a type the local run has no value for. */
function physicalValues(prefix: string, logicalId: string, resource: Resource): Record<string, string> | undefined {
  const props = resource.Properties ?? {};
  const named = (key: string): string =>
    typeof props[key] === 'string' ? (props[key] as string) : `${prefix}-${baseName(logicalId)}-local`;
  switch (resource.Type) {
    case 'AWS::S3::Bucket': {
      const name = named('BucketName');
      return { Ref: name, Arn: `arn:aws:s3:::${name}` };
    }
    case 'AWS::SNS::Topic': {
      const topicArn = arn('sns', named('TopicName'));
      return { Ref: topicArn, TopicArn: topicArn, TopicName: named('TopicName') };
    }
    case 'AWS::SQS::Queue': {
      const name = named('QueueName');
      return { Ref: `http://127.0.0.1/${LOCAL_ACCOUNT}/${name}`, Arn: arn('sqs', name), QueueName: name };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName');
      return { Ref: name, Arn: arn('iam', `role/${name}`) };
    }
    case 'AWS::KMS::Key': {
      const id = `${hex(logicalId, 8)}-0000-4000-8000-${hex(`${logicalId}/key`, 12)}`;
      return { Ref: id, Arn: arn('kms', `key/${id}`), KeyId: id };
    }
    case 'AWS::EC2::SecurityGroup': {
      const id = `sg-${hex(logicalId, 17)}`;
      return { Ref: id, GroupId: id };
    }
    case 'AWS::EC2::Subnet':
      return { Ref: `subnet-${hex(logicalId, 17)}`, SubnetId: `subnet-${hex(logicalId, 17)}` };
    case 'AWS::EC2::VPC':
      return { Ref: `vpc-${hex(logicalId, 17)}`, VpcId: `vpc-${hex(logicalId, 17)}` };
    case 'AWS::StepFunctions::StateMachine': {
      const stateMachineArn = arn('states', `stateMachine:${named('StateMachineName')}`);
      return { Ref: stateMachineArn, Arn: stateMachineArn, Name: named('StateMachineName') };
    }
    default:
      return undefined;
  }
}

/**
 * A lookup for the intrinsics of `stackName`'s template: its own resources, and the outputs of the other
 * stacks it reads with `Fn::GetStackOutput`. An unknown reference throws, naming this file.
 */
export function localStackValues(
  templates: ReadonlyMap<string, StackTemplate>,
  stackName: string,
  prefix: string,
): RefValues {
  const ownValue = (stack: string, key: string): string | undefined => {
    const template = templates.get(stack);
    if (!template) throw new Error(`no synthesized stack ${stack}`);
    if (key.startsWith('output:')) {
      const [, other, output] = /^output:([^.]+)\.(.+)$/.exec(key) ?? [];
      const value = templates.get(other)?.Outputs?.[output]?.Value;
      if (value === undefined) throw new Error(`stack ${other} has no output ${output} (read by ${stack})`);
      return resolveOutput(other, value);
    }
    const [logicalId, attribute = 'Ref'] = key.split('.');
    const resource = template.Resources?.[logicalId];
    if (!resource) return undefined;
    const value = physicalValues(prefix, logicalId, resource)?.[attribute];
    if (value === undefined) {
      throw new Error(
        `${stack}: no local value for ${key} (${resource.Type}); add the type to lib/local/stack-values.ts`,
      );
    }
    return value;
  };
  const resolveOutput = (stack: string, value: unknown): string => {
    if (typeof value === 'string') return value;
    const single = (value ?? {}) as Obj;
    const getAtt = single['Fn::GetAtt'];
    const key =
      typeof single.Ref === 'string' ? single.Ref : Array.isArray(getAtt) ? `${getAtt[0]}.${getAtt[1]}` : undefined;
    const resolved = key === undefined ? undefined : ownValue(stack, key);
    if (resolved !== undefined) return resolved;
    throw new Error(
      `${stack}: output value ${JSON.stringify(value)} is not resolved locally (lib/local/stack-values.ts)`,
    );
  };
  return (key) => ownValue(stackName, key);
}

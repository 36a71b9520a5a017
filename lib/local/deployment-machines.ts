import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateModelPackageGroupCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalRule } from './event-bus';
import { localStackValues, type StackTemplate } from './stack-values';
import { resolveIntrinsics } from './state-machine';
import type { SynthesizedRecipe } from './synth';

/**
 * What the deployment stack synth wrote, ready to run here: the REGISTER and DEPLOY state machines (their
 * DefinitionString with every intrinsic resolved to a local value), the EventBridge rules that start them, and the
 * resources they use that CloudFormation would have created (the notifications topic, the recipes' model package
 * groups), which `createInEmulator` creates in moto.
 */

type Obj = Record<string, unknown>;

export interface LocalStateMachine {
  readonly logicalId: string;
  readonly definition: StateMachineDefinition;
}

export interface DeploymentMachines {
  readonly machines: ReadonlyMap<string, LocalStateMachine>;
  readonly rules: readonly LocalRule[];
  /** Names of the SNS topics the state machines publish to. */
  readonly topics: readonly string[];
  /** Model package groups of every synthesized template (nested stacks included). */
  readonly packageGroups: readonly string[];
}

function resourcesOf(template: StackTemplate): [string, { Type: string; Properties?: Obj }][] {
  return Object.entries(template.Resources ?? {});
}

/** Reads the deployment stack of `synth` with its intrinsics resolved to local values. */
export function readDeploymentMachines(synth: SynthesizedRecipe): DeploymentMachines {
  const stackName = synth.deploymentStackName;
  const template = synth.stacks.get(stackName);
  if (!template) throw new Error(`synth wrote no stack ${stackName}`);
  const refs = localStackValues(synth.stacks, stackName, synth.values.prefix);
  const machines = new Map<string, LocalStateMachine>();
  const rules: LocalRule[] = [];
  const topics: string[] = [];
  for (const [logicalId, resource] of resourcesOf(template)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      const text = resolveIntrinsics(props.DefinitionString, refs) as string;
      machines.set(logicalId, { logicalId, definition: JSON.parse(text) as StateMachineDefinition });
    } else if (resource.Type === 'AWS::Events::Rule' && props.State !== 'DISABLED') {
      const targets = ((props.Targets ?? []) as { Arn: unknown }[]).map((t) => {
        const ref = (t.Arn as Obj | null)?.Ref;
        if (typeof ref !== 'string')
          throw new Error(`${logicalId}: a target that is not a state machine of this stack`);
        return ref;
      });
      rules.push({ logicalId, pattern: resolveIntrinsics(props.EventPattern, refs) as Obj, targets });
    } else if (resource.Type === 'AWS::SNS::Topic') {
      const arn = typeof refs === 'function' ? refs(logicalId) : refs[logicalId];
      if (arn) topics.push(arn.split(':').pop() as string);
    }
  }
  for (const rule of rules) {
    for (const target of rule.targets) {
      if (!machines.has(target)) throw new Error(`${rule.logicalId}: target ${target} is not a state machine`);
    }
  }
  const packageGroups: string[] = [];
  for (const file of fs.readdirSync(synth.outdir).filter((f) => f.endsWith('.template.json'))) {
    const other = JSON.parse(fs.readFileSync(path.join(synth.outdir, file), 'utf8')) as StackTemplate;
    for (const [, resource] of resourcesOf(other)) {
      const name = resource.Properties?.ModelPackageGroupName;
      if (resource.Type === 'AWS::SageMaker::ModelPackageGroup' && typeof name === 'string') packageGroups.push(name);
    }
  }
  return { machines, rules, topics, packageGroups };
}

/** Creates the topics and model package groups in the emulator, as the deployment would. */
export async function createInEmulator(
  deployment: DeploymentMachines,
  clients: { readonly sns: SNSClient; readonly sagemaker: SageMakerClient },
): Promise<void> {
  for (const Name of deployment.topics) await clients.sns.send(new CreateTopicCommand({ Name }));
  for (const ModelPackageGroupName of deployment.packageGroups) {
    await clients.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName }));
  }
}

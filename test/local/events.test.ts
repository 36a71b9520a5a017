import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDeploymentMachines } from '../../lib/local/deployment-machines';
import { matchesEventPattern, modelPackageStateEvent, pipelineExecutionStatusEvent } from '../../lib/local/events';
import { synthesizeRecipe } from '../../lib/local/synth';
import { REPO_ROOT } from '../support/python-tools';

/**
 * The local event bus starts what the synthesized EventBridge rules start: the rules are read from the
 * deployment stack synth wrote (intrinsics resolved), and SageMaker's events are matched against them.
 */

let work: string;
let rules: ReturnType<typeof readDeploymentMachines>['rules'];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'local-events-'));
  const synth = synthesizeRecipe('recipes/gpt-oss-20b-multilingual-lora.yaml', {
    outdir: path.join(work, 'cdk.out'),
    cwd: REPO_ROOT,
  });
  rules = readDeploymentMachines(synth).rules;
}, 120_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Logical ids (without CDK's hash) of the state machines the rules start for `event`. */
function started(event: Record<string, unknown>): string[] {
  return rules
    .filter((r) => matchesEventPattern(r.pattern, event))
    .flatMap((r) => r.targets.map((t) => t.replace(/[0-9A-F]{8}$/, '')));
}

const pipeline = (status: 'Succeeded' | 'Failed', pipelineName = 'gptoss-dev-gpt-oss-20b-multilingual-lora') =>
  pipelineExecutionStatusEvent({ pipelineName, executionId: 'abc123def456', status });

const pkg = (approvalStatus: string, groupName = 'gptoss-dev-gpt-oss-20b-multilingual-lora') =>
  modelPackageStateEvent({
    packageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${groupName}/1`,
    groupName,
    version: 1,
    approvalStatus,
  });

test.each([
  ['a succeeded execution of this deployment', ['RegisterStateMachine'], pipeline('Succeeded')],
  ['a failed execution', [], pipeline('Failed')],
  ["another deployment's pipeline", [], pipeline('Succeeded', 'other-dev-gpt-oss-20b')],
  ['an approved package of this deployment', ['DeployStateMachine'], pkg('Approved')],
  ['a package pending approval', [], pkg('PendingManualApproval')],
  ['a rejected package', [], pkg('Rejected')],
  ["an approved package of another deployment's group", [], pkg('Approved', 'other-dev-recipe')],
])('%s starts %j', (_name, machines, event) => {
  expect(started(event)).toEqual(machines);
});

test('a content filter the local bus does not evaluate is an error, not a silent mismatch', () => {
  expect(() => matchesEventPattern({ detail: { size: [{ numeric: ['>', 0] }] } }, { detail: { size: 1 } })).toThrow(
    /content filter numeric is not evaluated locally/,
  );
});

test('an event array matches when any element is allowed; exists and anything-but are evaluated', () => {
  const event = { resources: ['arn:a', 'arn:b'], detail: { status: 'Stopped' } };
  expect(matchesEventPattern({ resources: ['arn:b'] }, event)).toBe(true);
  expect(matchesEventPattern({ detail: { status: [{ 'anything-but': ['Stopped'] }] } }, event)).toBe(false);
  expect(matchesEventPattern({ detail: { reason: [{ exists: false }] } }, event)).toBe(true);
  expect(matchesEventPattern({ detail: { status: [{ exists: true }] } }, event)).toBe(true);
});

import * as path from 'node:path';
import { type LoadedRecipe, loadRecipe } from '../../lib/config/load-recipes';
import { definitionSteps, type Json, type MetricDefinition, type TrainingDeployValues } from '../../lib/pipeline';
import { REPO_ROOT } from '../support/python-tools';

/** A JSON object of a template or a pipeline definition, for property access. */
export type Obj = Record<string, Json>;

/** Recipe fixtures of the pipeline tests. */
export const FIXTURES_DIR = path.join(__dirname, 'fixtures');

export function fixtureRecipe(name: string): LoadedRecipe {
  return loadRecipe(path.join(FIXTURES_DIR, `${name}.yaml`), REPO_ROOT);
}

/** Plausible concrete deploy-time values, as CloudFormation would substitute them. */
export const DEPLOY_VALUES: TrainingDeployValues = {
  roleArn: 'arn:aws:iam::123456789012:role/gptoss-dev-training-job',
  kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  artifactsBucketName: 'gptoss-dev-artifacts-123456789012',
  datasetsBucketName: 'gptoss-dev-datasets-123456789012',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  securityGroupIds: ['sg-0123456789abcdef0'],
  defaultImageUri:
    '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker',
  codeS3Uri: 's3://gptoss-dev-artifacts-123456789012/code/0123abcd/',
  mlflowTrackingArn: 'arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/gptoss-dev',
};

/** A stand-in metric list for builder unit tests (the stack tests use the real contract file). */
export const TEST_METRICS: readonly MetricDefinition[] = [
  { Name: 'train_loss', Regex: "'loss': ([0-9.e+-]+)" },
  { Name: 'eval_loss', Regex: "'eval_loss': ([0-9.e+-]+)" },
];

/** MetricDefinitions in the contract's shape, for the stack's unit tests. */
export const METRIC_DEFINITIONS_FIXTURE = path.join(FIXTURES_DIR, 'metric_definitions.json');

/** The contract file `training-code/metric_definitions.json`, read the way the stack reads it. */
export const METRIC_DEFINITIONS_FILE = path.join(REPO_ROOT, 'training-code', 'metric_definitions.json');

/** Build options of the definition tests: the stand-in metrics, a fixed volume and git sha. */
export const BUILD_OPTIONS = {
  metricDefinitions: TEST_METRICS,
  volumeSizeGb: 200,
  gitSha: '0123456789abcdef0123456789abcdef01234567',
};

/** The arguments of the definition's step `name` (at any depth); throws when there is none. */
export const stepArgs = (definition: Json, name: string): Obj => {
  const step = definitionSteps(definition).find((s) => s.name === name);
  if (!step) throw new Error(`no step ${name}`);
  return step.arguments as Obj;
};

import type { DescribeTrainingJobResponse } from '@aws-sdk/client-sagemaker';
import type { ProvenanceEnvironment, RegisterSettings } from '../serving-settings';
import { statePaths } from '../workflow/state-paths';

/**
 * The REGISTER machine's state, one typed object per key: every step reads and writes its paths through
 * these, so a renamed field (of the settings object, the training job, the package) fails to compile.
 */

/** The fields of the "SageMaker Model Building Pipeline Execution Status Change" event the machine reads. */
export interface PipelineEventDetail {
  readonly pipelineArn: string;
  readonly pipelineExecutionArn: string;
}

/** The pipeline execution being registered. */
export interface RunFacts {
  readonly pipelineArn: string;
  readonly executionArn: string;
  /** The last part of the pipeline ARN (pipeline names are lowercase: naming.ts). */
  readonly pipelineName: string;
}

/** What makes a registration idempotent. */
export interface PackageIdentity {
  /** Names the execution: what the duplicate check matches. */
  readonly description: string;
  /** MD5 of the execution ARN: concurrent CreateModelPackage calls for one execution create one version. */
  readonly clientToken: string;
}

export const detail = statePaths<PipelineEventDetail>('$.detail');
export const run = statePaths<RunFacts>('$.run');
export const recipe = statePaths<RegisterSettings>('$.recipe');
export const ids = statePaths<PackageIdentity>('$.ids');
/** The group's most recent packages (for the duplicate check). */
export const existing = statePaths<{ readonly summaries: unknown[] }>('$.existing');
export const steps = statePaths<{ readonly list: unknown[] }>('$.steps');
/** The training job's ARNs among the steps, then its name. */
export const trainingJob = statePaths<{ readonly arns: string[]; readonly name: string }>('$.trainingJob');
export const job = statePaths<DescribeTrainingJobResponse>('$.job');
export const provenance = statePaths<{ readonly env: ProvenanceEnvironment }>('$.provenance');
/** The job's eval_loss values, then the text the package and notices show. */
export const evalLoss = statePaths<{ readonly values: number[]; readonly text: string }>('$.evalLoss');
/**
 * The uncompressed model's S3 prefix: first the job's output, then (after the registry copy) the copy the
 * package points at, with the job's prefix as `source`, the checksum manifest and the number of files.
 */
export const model = statePaths<{
  readonly prefix: string;
  readonly source: string;
  readonly manifest: string;
  readonly manifestSha256: string;
  readonly files: string;
}>('$.model');
/** Where the registry copy goes (keys in the artifacts bucket), and the prefix the job must have used. */
export const registry = statePaths<{
  readonly expectedPrefix: string;
  readonly sourceKeyPrefix: string;
  readonly keyPrefix: string;
  readonly manifestKey: string;
}>('$.registry');
export const modelPackage = statePaths<{ readonly arn: string; readonly version: string }>('$.package');
/** A list rendered with States.JsonToString, for a substring test before a filter that might match nothing. */
export const rendered = (root: '$.stepsJson' | '$.metricsJson') => statePaths<{ readonly json: string }>(root);

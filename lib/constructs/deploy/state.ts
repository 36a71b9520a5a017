import type { DescribeEndpointOutput, ModelPackageContainerDefinition } from '@aws-sdk/client-sagemaker';
import type { Construct } from 'constructs';
import type { DeploySettings } from '../serving-settings';
import { recordText } from '../workflow/record-text';
import { statePaths } from '../workflow/state-paths';

/**
 * The DEPLOY machine's state, one typed object per key: every step reads and writes its paths through
 * these, so a renamed field (of the settings object, a resource name, an AWS response) fails to compile.
 */

/** The fields of the "SageMaker Model Package State Change" event the machine reads. */
export interface PackageEventDetail {
  readonly ModelPackageArn: string;
  readonly ModelPackageVersion: number;
  readonly ModelPackageGroupName: string;
}

/** What "Describe package" keeps of DescribeModelPackage. */
export interface PackageFacts {
  readonly arn: string;
  readonly status: string;
  readonly version: number;
  readonly container: ModelPackageContainerDefinition;
}

/** The names of what this execution creates (all derived from the settings and the package version). */
export interface ResourceNames {
  /** Model and endpoint config: `<endpoint>-<settings hash>-v<version>`. */
  readonly model: string;
  readonly alarm5xx: string;
  readonly alarmLatency: string;
  readonly scalingResourceId: string;
  readonly dataCaptureUri: string;
  /** The package version as a string (for tags and notices). */
  readonly version: string;
}

/** What this execution created, and so deletes on failure. */
export interface CreatedResources {
  readonly model?: { readonly arn: string };
  readonly config?: { readonly arn: string };
  readonly endpoint?: { readonly arn: string };
}

/** `none` until the current endpoint is known; then `create` (no endpoint) or `update` (blue/green). */
export type DeployMode = 'none' | 'create' | 'update';

export const MODE_PATH = '$.mode';

export const detail = statePaths<PackageEventDetail>('$.detail');
export const settings = statePaths<DeploySettings>('$.settings');
export const pkg = statePaths<PackageFacts>('$.pkg');
export const names = statePaths<ResourceNames>('$.names');
export const created = statePaths<CreatedResources>('$.created');
/** The endpoint as found before this execution changed anything. */
export const current = statePaths<DescribeEndpointOutput>('$.current');
/** The endpoint as the latest poll of a wait loop saw it. */
export const endpoint = statePaths<DescribeEndpointOutput>('$.endpoint');
/** The notice's sentence on what state the endpoint was left in. */
export const outcome = statePaths<{ readonly text: string }>('$.outcome');
/** A Pass that sets the outcome sentence (literal, or a JsonPath.format). */
export const recordOutcome = (scope: Construct, id: string, text: string) =>
  recordText(scope, id, outcome.root, 'text', text);
/** The success notice's sentence on autoscaling. */
export const scaling = statePaths<{ readonly note: string }>('$.scaling');
/** A Pass that sets the autoscaling sentence. */
export const recordScalingNote = (scope: Construct, id: string, text: string) =>
  recordText(scope, id, scaling.root, 'note', text);
/** The error of a failed autoscaling registration. */
export const scalingError = statePaths<{ readonly Error: string; readonly Cause: string }>('$.scalingError');
/** The smoke test's parsed reply. */
export const smoke = statePaths<{ readonly reply: unknown }>('$.smoke');
/** The poll counter of a wait loop. */
export const wait = statePaths<{ readonly attempts: number }>('$.wait');

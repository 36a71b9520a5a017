import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ECR_PULL_ACTIONS, ECR_TOKEN_ACTIONS } from '../iam/training-perms';
import {
  DLC_ACCOUNT_OVERRIDES,
  DLC_DEFAULT_ACCOUNT,
  ECR_IMAGE_URI_FORMAT,
  parseEcrImageUri as parseEcrImage,
} from '../recipes/ecr-image';

/**
 * The image a training job runs: the PyTorch training Deep Learning Container, an image built from a
 * directory (a CDK Docker image asset) or any URI. `bind` returns the URI and grants the job's role pull.
 */

/** The PyTorch training DLC tag used by default (patched until 2027-01-21; docs/facts/aws.md §1). */
export const DEFAULT_PYTORCH_DLC_TAG = '2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker';

export { DLC_ACCOUNT_OVERRIDES, DLC_DEFAULT_ACCOUNT };

/** The URI of a bound image. */
export interface BoundTrainingImage {
  readonly imageUri: string;
}

/** A training image. */
export abstract class TrainingImage {
  /**
   * The PyTorch training Deep Learning Container of the stack's region.
   * @param tag image tag, e.g. `2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker`
   */
  public static pytorchDlc(tag: string = DEFAULT_PYTORCH_DLC_TAG): TrainingImage {
    return new DlcImage('pytorch-training', tag);
  }

  /**
   * An image built from `directory` (which holds a Dockerfile) by `cdk deploy` and pushed to the CDK assets
   * repository. Synthesis only fingerprints the directory; Docker is needed at deploy time.
   */
  public static fromAsset(
    directory: string,
    options: Omit<ecrAssets.DockerImageAssetProps, 'directory'> = {},
  ): TrainingImage {
    return new AssetImage(directory, options);
  }

  /** An image by URI, e.g. one the recipe names. ECR images in this account get a pull grant. */
  public static fromUri(imageUri: string): TrainingImage {
    return new UriImage(imageUri);
  }

  /**
   * The default: the image built from `training-code/Dockerfile` when that file exists, else the PyTorch
   * training DLC.
   */
  public static defaultFor(codeDirectory: string): TrainingImage {
    return fs.existsSync(path.join(codeDirectory, 'Dockerfile'))
      ? TrainingImage.fromAsset(codeDirectory, { exclude: [...CODE_ASSET_EXCLUDES] })
      : TrainingImage.pytorchDlc();
  }

  /** Resolves the URI in `scope` and grants `grantee` permission to pull it. */
  public abstract bind(scope: Construct, grantee: iam.IGrantable): BoundTrainingImage;
}

/** What never goes into the code channel or the image build context: tests, virtualenvs, caches. */
export const CODE_ASSET_EXCLUDES: readonly string[] = [
  'tests',
  '.venv',
  'venv',
  '**/__pycache__',
  '**/*.pyc',
  '.pytest_cache',
  '.ruff_cache',
  '.mypy_cache',
  '*.egg-info',
  '.ipynb_checkpoints',
];

function grantEcrPull(grantee: iam.IGrantable, repositoryArn: string): void {
  iam.Grant.addToPrincipal({ grantee, actions: ECR_PULL_ACTIONS, resourceArns: [repositoryArn] });
  // GetAuthorizationToken is account-wide and supports no resource-level permission, so its resource is "*".
  iam.Grant.addToPrincipal({ grantee, actions: ECR_TOKEN_ACTIONS, resourceArns: ['*'] });
}

class DlcImage extends TrainingImage {
  constructor(
    private readonly repository: string,
    private readonly tag: string,
  ) {
    super();
  }

  public bind(scope: Construct, grantee: iam.IGrantable): BoundTrainingImage {
    const stack = cdk.Stack.of(scope);
    const account = cdk.Token.isUnresolved(stack.region)
      ? dlcAccountMapping(stack).findInMap(cdk.Aws.REGION, 'account')
      : (DLC_ACCOUNT_OVERRIDES[stack.region] ?? DLC_DEFAULT_ACCOUNT);
    const repositoryArn = stack.formatArn({
      service: 'ecr',
      account,
      resource: 'repository',
      resourceName: this.repository,
    });
    grantEcrPull(grantee, repositoryArn);
    return { imageUri: `${account}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${this.repository}:${this.tag}` };
  }
}

/** A region → DLC account mapping for region-agnostic stacks (only the exceptions; the rest use the default). */
function dlcAccountMapping(stack: cdk.Stack): cdk.CfnMapping {
  const id = 'DlcRegistryAccount';
  const existing = stack.node.tryFindChild(id);
  if (existing) return existing as cdk.CfnMapping;
  const mapping: Record<string, Record<string, string>> = {};
  for (const region of [
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
    'ca-central-1',
    'eu-central-1',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'eu-north-1',
    'ap-south-1',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'sa-east-1',
    ...Object.keys(DLC_ACCOUNT_OVERRIDES),
  ]) {
    mapping[region] = { account: DLC_ACCOUNT_OVERRIDES[region] ?? DLC_DEFAULT_ACCOUNT };
  }
  return new cdk.CfnMapping(stack, id, { mapping });
}

class AssetImage extends TrainingImage {
  private readonly assets = new WeakMap<cdk.Stack, ecrAssets.DockerImageAsset>();

  constructor(
    private readonly directory: string,
    private readonly options: Omit<ecrAssets.DockerImageAssetProps, 'directory'>,
  ) {
    super();
  }

  public bind(scope: Construct, grantee: iam.IGrantable): BoundTrainingImage {
    const stack = cdk.Stack.of(scope);
    let asset = this.assets.get(stack);
    if (!asset) {
      asset = new ecrAssets.DockerImageAsset(stack, 'TrainingImage', { directory: this.directory, ...this.options });
      this.assets.set(stack, asset);
    }
    asset.repository.grantPull(grantee);
    return { imageUri: asset.imageUri };
  }
}

class UriImage extends TrainingImage {
  constructor(private readonly imageUri: string) {
    super();
  }

  public bind(scope: Construct, grantee: iam.IGrantable): BoundTrainingImage {
    const { account, region, repository } = parseEcrImageUri(this.imageUri);
    const stack = cdk.Stack.of(scope);
    grantEcrPull(
      grantee,
      stack.formatArn({ service: 'ecr', account, region, resource: 'repository', resourceName: repository }),
    );
    return { imageUri: this.imageUri };
  }
}

/**
 * Splits an ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` or `@sha256:<digest>`).
 * Throws for anything else: SageMaker training pulls only from ECR (the recipe check's training-image rule
 * refuses a recipe with such an `image_uri` before any construct sees it).
 */
export function parseEcrImageUri(imageUri: string): { account: string; region: string; repository: string } {
  const image = parseEcrImage(imageUri);
  if (!image) {
    throw new Error(
      `"${imageUri}" is not an Amazon ECR image URI; SageMaker training pulls only from ECR: write ${ECR_IMAGE_URI_FORMAT}`,
    );
  }
  return image;
}

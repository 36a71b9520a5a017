/**
 * Amazon ECR image URIs: SageMaker training jobs and endpoints pull only from ECR, so a recipe's `image_uri`
 * (training or serving) must be one. One parser for the recipe check and the constructs that grant the pull.
 */

export interface EcrImage {
  readonly uri: string;
  readonly account: string;
  readonly region: string;
  readonly repository: string;
}

const ECR_IMAGE_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::[\w.-]+|@sha256:[0-9a-f]{64})$/;

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` (or `@sha256:<digest>`) split; else undefined. */
export function parseEcrImageUri(uri: string): EcrImage | undefined {
  const m = ECR_IMAGE_URI.exec(uri);
  return m ? { uri, account: m[1], region: m[2], repository: m[3] } : undefined;
}

/** What to write instead of a non-ECR image URI. */
export const ECR_IMAGE_URI_FORMAT = '"<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>"';

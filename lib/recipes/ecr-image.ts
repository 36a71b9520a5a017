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

/** The DLC registry account of each region that does not use 763104351884 (aws/deep-learning-containers). */
export const DLC_ACCOUNT_OVERRIDES: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-northeast-3': '364406365360',
  'ap-southeast-3': '907027046896',
  'eu-south-1': '692866216735',
  'me-south-1': '217643126080',
  'me-central-1': '914824155844',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
};
/** The DLC registry account everywhere else. */
export const DLC_DEFAULT_ACCOUNT = '763104351884';

/** Every AWS Deep Learning Containers registry account. */
export const DLC_ACCOUNTS: readonly string[] = [DLC_DEFAULT_ACCOUNT, ...new Set(Object.values(DLC_ACCOUNT_OVERRIDES))];

/**
 * Whether a custom image may run: only images in this account's ECR, the AWS DLC registries, or a registry the
 * stage config trusts (`guardrails.trustedImageAccounts`). The roles get pull access to whatever runs, so an
 * image from a foreign account would both run foreign code and open that account's repository to the roles.
 */
export function trustedImageAccount(
  image: EcrImage,
  ownAccount: string | undefined,
  trustedAccounts: readonly string[],
): boolean {
  return (
    image.account === ownAccount || DLC_ACCOUNTS.includes(image.account) || trustedAccounts.includes(image.account)
  );
}

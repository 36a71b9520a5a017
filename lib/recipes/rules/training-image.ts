import { DEFAULT_GUARDRAILS } from '../../config/app-config';
import { ECR_IMAGE_URI_FORMAT, type EcrImage, parseEcrImageUri, trustedImageAccount } from '../ecr-image';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule, show } from './rule-support';

/** SageMaker training jobs pull only from Amazon ECR (the stack grants the pull on the named repository). */
export function trainingImageRule(ctx: LintContext): Finding[] {
  const uri = ctx.doc?.platform.training.image_uri;
  if (uri === undefined) return [];
  const image = parseEcrImageUri(uri);
  if (image) return untrustedImageFindings(ctx, 'training-image', 'platform.training.image_uri', image);
  return [
    finding(
      ctx,
      'training-image',
      'error',
      'platform.training.image_uri',
      show(uri),
      'not an Amazon ECR image URI; SageMaker training pulls only from ECR',
      `write ${ECR_IMAGE_URI_FORMAT}, or remove the key to use the platform's training image`,
    ),
  ];
}

/**
 * A custom image from a registry this stage does not trust (see `trustedImageAccount`): the finding shared by the
 * training and serving image rules.
 */
export function untrustedImageFindings(ctx: LintContext, rule: string, keyPath: string, image: EcrImage): Finding[] {
  const trusted = ctx.config.guardrails?.trustedImageAccounts ?? DEFAULT_GUARDRAILS.trustedImageAccounts;
  if (trustedImageAccount(image, ctx.config.account, trusted)) return [];
  const own = ctx.config.account
    ? `this account (${ctx.config.account})`
    : 'this account (no `account` in the stage config)';
  return [
    finding(
      ctx,
      rule,
      'error',
      keyPath,
      show(image.uri),
      `the image is in account ${image.account}, neither ${own} nor an AWS Deep Learning Containers registry; the roles would get pull access to it and run its code`,
      'copy the image into an ECR repository of this account, or add the account to guardrails.trustedImageAccounts in the stage config',
    ),
  ];
}

/** Rule `training-image`. */
export const trainingImage: LintRule = {
  id: 'training-image',
  level: 'error',
  input: 'document',
  description:
    'training image_uri must be an Amazon ECR image URI in this account, an AWS DLC registry or a trusted one',
  check: trainingImageRule,
};

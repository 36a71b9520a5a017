import { ECR_IMAGE_URI_FORMAT } from '../ecr-image';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule, show } from './rule-support';
import { untrustedImageFindings } from './training-image';

/** SageMaker endpoints pull only from a private ECR repository. */
export function servingImageRule(ctx: LintContext): Finding[] {
  const uri = ctx.doc?.platform.serving?.image_uri;
  if (uri === undefined) return [];
  const image = ctx.analysis?.serving.image;
  if (image) {
    return image.kind === 'custom'
      ? untrustedImageFindings(ctx, 'serving-image', 'platform.serving.image_uri', image)
      : [];
  }
  return [
    finding(
      ctx,
      'serving-image',
      'error',
      'platform.serving.image_uri',
      show(uri),
      'SageMaker endpoints pull from a private Amazon ECR repository',
      `write ${ECR_IMAGE_URI_FORMAT} (copy public images to your ECR first), or remove the key to use the vLLM SageMaker DLC`,
    ),
  ];
}

/** Rule `serving-image`. */
export const servingImage: LintRule = {
  id: 'serving-image',
  level: 'error',
  input: 'document',
  description:
    'serving image_uri must be an Amazon ECR image URI in this account, an AWS DLC registry or a trusted one',
  check: servingImageRule,
};

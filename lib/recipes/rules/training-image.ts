import { ECR_IMAGE_URI_FORMAT, parseEcrImageUri } from '../ecr-image';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule, show } from './rule-support';

/** SageMaker training jobs pull only from Amazon ECR (the stack grants the pull on the named repository). */
export function trainingImageRule(ctx: LintContext): Finding[] {
  const uri = ctx.doc?.platform.training.image_uri;
  if (uri === undefined || parseEcrImageUri(uri)) return [];
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

/** Rule `training-image`. */
export const trainingImage: LintRule = {
  id: 'training-image',
  level: 'error',
  input: 'document',
  description: 'training image_uri must be an Amazon ECR image URI',
  check: trainingImageRule,
};

import {
  endpointName,
  modelPackageGroupName,
  pipelineName,
  resourcePrefix,
  SAGEMAKER_NAME_MAX_LENGTH,
  SAGEMAKER_NAME_PATTERN,
} from '../../config/naming';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** Pipeline, model package group and endpoint names SageMaker would reject. */
export function resourceNamesRule(ctx: LintContext): Finding[] {
  const out: Finding[] = [];
  const fileName = (found: string, message: string, fix: string) =>
    finding(ctx, 'resource-names', 'error', '(file name)', found, message, fix);
  if (!/^[a-z0-9](-*[a-z0-9])*$/.test(ctx.name)) {
    const suggestion =
      ctx.name
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'my-recipe';
    out.push(
      fileName(
        show(ctx.name),
        'the file name is the pipeline name and must be lowercase letters, digits and inner hyphens (SageMaker lowercases names in ARNs; underscores and dots are rejected)',
        `rename the file to ${suggestion}.yaml`,
      ),
    );
    return out;
  }
  const names: [string, string, number][] = [
    ['pipeline', pipelineName(ctx.config, ctx.name), 256],
    ['model package group', modelPackageGroupName(ctx.config, ctx.name), SAGEMAKER_NAME_MAX_LENGTH],
    ['endpoint', endpointName(ctx.config, ctx.name), SAGEMAKER_NAME_MAX_LENGTH],
  ];
  const badPattern = names.filter(([, name]) => !SAGEMAKER_NAME_PATTERN.test(name));
  const tooLong = names.filter(([, name, max]) => SAGEMAKER_NAME_PATTERN.test(name) && name.length > max);
  const kinds = (list: typeof names) => list.map(([kind]) => kind).join(' and ');
  if (badPattern.length > 0) {
    out.push(
      fileName(
        show(badPattern[0][1]),
        `the ${kinds(badPattern)} name${badPattern.length > 1 ? 's do' : ' does'} not match SageMaker's pattern ${SAGEMAKER_NAME_PATTERN.source}`,
        'rename the file using lowercase letters, digits and single hyphens',
      ),
    );
  }
  if (tooLong.length > 0) {
    const [, name, max] = tooLong[0];
    const room = max - resourcePrefix(ctx.config).length - 1;
    out.push(
      fileName(
        show(name),
        `the ${kinds(tooLong)} name${tooLong.length > 1 ? 's are' : ' is'} ${name.length} characters; SageMaker allows ${max}`,
        `shorten the file name to at most ${room} characters (the prefix "${resourcePrefix(ctx.config)}-" takes the rest)`,
      ),
    );
  }
  return out;
}

/** Rule `resource-names`. */
export const resourceNames: LintRule = {
  id: 'resource-names',
  level: 'error',
  input: 'document',
  description: 'pipeline / model package group / endpoint names SageMaker rejects',
  check: resourceNamesRule,
};

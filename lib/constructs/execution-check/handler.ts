import type { ExecutionCheckEvent, ExecutionCheckResult } from '../../pipeline/execution-check-step';
import { checkExecution } from '../../recipes/execute-check';
import { formatFinding } from '../../recipes/findings';

/**
 * The Lambda behind a pipeline's first step (lib/pipeline/execution-check-step.ts): the recipe rules on the
 * execution's resolved parameters, the same code `run` and the PR check run. Pure: no AWS call.
 */

/** SageMaker shows a Fail step's message in the console; keep it readable and within the API's limits. */
const MAX_MESSAGE = 3000;

export async function handler(event: ExecutionCheckEvent): Promise<ExecutionCheckResult> {
  const raw = JSON.parse(event.recipe) as Record<string, unknown>;
  const source = { name: event.recipeName, file: event.recipeFile, source: '', hash: event.recipeHash };
  const check = checkExecution(source, raw, event.parameters, event.config);
  const errors = check.findings.filter((f) => f.level === 'error').map(formatFinding);
  const message = errors.length === 0 ? '' : `execution refused, nothing was started: ${errors.join('\n')}`;
  return { valid: errors.length === 0, message: message.slice(0, MAX_MESSAGE) };
}

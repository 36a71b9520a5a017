import { parse } from 'yaml';
import type { LoadedRecipe } from '../config/load-recipes';
import type { LintConfig } from '../recipes/rules/rule-support';
import type { Parameter } from './expressions';
import { Condition, ConditionStep, FailStep, LambdaStep, type Step } from './steps';

/**
 * The first step of every recipe pipeline: a Lambda step that runs the recipe rules on the values the
 * execution resolved (lib/recipes/execute-check.ts, bundled into lib/constructs/execution-check/handler.ts), and
 * a Condition step that runs the training branch only when they pass, else a Fail step with the findings. So
 * an Execute from the console meets the same check as `run` and the PR, before any instance starts.
 */

/** What the step sends the function (the Lambda event). */
export interface ExecutionCheckEvent {
  readonly recipeName: string;
  readonly recipeFile: string;
  readonly recipeHash: string;
  /** The recipe as read from its YAML, as JSON text (the pipeline definition was built from it). */
  readonly recipe: string;
  readonly config: LintConfig;
  /** Every pipeline parameter by name, as SageMaker resolved it for this execution. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
}

/** What the function returns (flat: Lambda step outputs cannot nest). */
export interface ExecutionCheckResult {
  readonly valid: boolean;
  /** The error findings, one per line; empty when valid. */
  readonly message: string;
}

export const EXECUTION_CHECK_STEPS = {
  check: 'CheckExecution',
  passed: 'ExecutionChecked',
  refused: 'ExecutionRefused',
} as const;

/** Options of {@link executionCheckSteps}. */
export interface ExecutionCheckOptions {
  /** ARN of the function built from lib/constructs/execution-check/handler.ts. */
  readonly functionArn: string;
  /** The app config the rules read (naming, prices, account, guardrails). */
  readonly config: LintConfig;
}

/** The check step and the Condition step that wraps `steps` (the training branch). */
export function executionCheckSteps(
  recipe: LoadedRecipe,
  parameters: readonly Parameter[],
  options: ExecutionCheckOptions,
  steps: readonly Step[],
): { check: LambdaStep<{ valid: 'Boolean'; message: 'String' }>; gate: ConditionStep } {
  const S = EXECUTION_CHECK_STEPS;
  const check = new LambdaStep(
    S.check,
    {
      functionArn: options.functionArn,
      arguments: {
        recipeName: recipe.name,
        recipeFile: recipe.file,
        recipeHash: recipe.hash,
        recipe: JSON.stringify(parse(recipe.source)),
        config: JSON.parse(JSON.stringify(options.config)) as LintConfig,
        parameters: Object.fromEntries(parameters.map((p) => [p.name, p])),
      } satisfies Record<keyof ExecutionCheckEvent, unknown>,
      outputs: { valid: 'Boolean', message: 'String' },
    },
    { displayName: 'Check execution', description: 'The recipe rules on this execution’s parameter values' },
  );
  const refused = new FailStep(S.refused, check.output('message'), { displayName: 'Execution refused' });
  const gate = new ConditionStep(
    S.passed,
    { conditions: [Condition.equals(check.output('valid'), true)], ifSteps: steps, elseSteps: [refused] },
    { displayName: 'Execution checked', description: 'Trains only when the recipe rules pass on these values' },
  );
  return { check, gate };
}

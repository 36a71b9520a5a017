import { describeRun, type LocalRunResult } from '../../lib/local/state-machine';

/**
 * The deploy tests run the synthesized state machines with the local Step Functions runner that `npm run local`
 * uses (lib/local/state-machine.ts); this adds their assertions.
 */
export * from '../../lib/local/state-machine';
export { LOCAL_ACCOUNT as TEST_ACCOUNT, LOCAL_REGION as TEST_REGION } from '../../lib/local/local-values';

/** Asserts the run's status, printing the run when it differs. */
export function expectStatus(result: LocalRunResult, status: LocalRunResult['status']): void {
  if (result.status !== status) throw new Error(`expected ${status}, got:\n${describeRun(result)}`);
}

/** Asserts a failed run with this error name, printing the run when it differs. */
export function expectFailedWith(result: LocalRunResult, error: string): void {
  if (result.status !== 'FAILED' || result.error !== error) {
    throw new Error(`expected FAILED with ${error}, got:\n${describeRun(result)}`);
  }
}

// asl-validator 4 ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: unknown[] };

/** asl-validator's verdict on a definition, paths and ARNs checked too. */
export function aslValidation(definition: unknown): { isValid: boolean; errors: unknown[] } {
  return aslValidator(definition, { checkPaths: true, checkArn: true });
}

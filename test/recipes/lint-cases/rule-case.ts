import type { TestRecipe } from '../support';

/** One failing case of a lint rule: a mutation of the good recipe and the finding it must produce. */
export interface RuleCase {
  /** What the case breaks, for the test name. */
  readonly what: string;
  readonly rule: string;
  readonly level: 'error' | 'warning';
  readonly keyPath: string;
  /** Matched against the whole formatted finding: file, key, found value, message and fix. */
  readonly message: RegExp;
  readonly mutate: (doc: TestRecipe) => void;
  readonly name?: string;
  readonly peftVersion?: string;
}

export const training = (doc: TestRecipe) => doc.platform.training;

import type { AppConfig } from '../../config/app-config';
import { describeValue } from '../../config/errors';
import type { RecipeDocument } from '../../config/recipe-schema';
import type { Finding, FindingLevel } from '../findings';
import { GiB } from '../memory-estimator';
import type { RecipeAnalysis } from '../recipe-analysis';

/**
 * What every recipe lint rule (one per file in this folder, listed in ./index.ts) receives and returns. A rule
 * reports the mistakes that otherwise cost an hour of 8-GPU time; every finding names the file, the key path,
 * the value found and what to write instead, and every rule runs, so all findings of a file come at once.
 */

/** The app config a rule reads. */
export type LintConfig = Pick<AppConfig, 'namePrefix' | 'stage' | 'prices'> &
  Partial<Pick<AppConfig, 'account' | 'guardrails'>>;

export interface LintContext {
  /** Recipe (= pipeline) name: the file name without `.yaml`. */
  readonly name: string;
  readonly file: string;
  /** The YAML as written (before the schema). */
  readonly raw: Readonly<Record<string, unknown>>;
  /**
   * The document after the schema (keys the schema rejected left out); absent when even that failed, and then
   * only the `raw` rules run.
   */
  readonly doc?: RecipeDocument;
  readonly analysis?: RecipeAnalysis;
  /** `account` and `guardrails` are optional for callers that check naming and prices only (defaults apply). */
  readonly config: LintConfig;
  /** PEFT version the training image pins (TRAINING_LIBRARY_VERSIONS.peft unless a test injects another). */
  readonly peftVersion: string;
}

export interface LintRule {
  readonly id: string;
  /** The most severe level the rule emits. */
  readonly level: FindingLevel;
  readonly description: string;
  /** `raw` rules look at the YAML as written and run even when the schema fails; `document` rules need a valid document. */
  readonly input: 'raw' | 'document';
  readonly check: (ctx: LintContext) => Finding[];
}

/** A value as found, for the `found` part of a finding. */
export const show = describeValue;

/** A value as it would be written in YAML: plain strings unquoted, everything else as JSON. */
export function asYaml(value: unknown): string {
  if (typeof value === 'string' && /^[A-Za-z0-9_./-]+$/.test(value)) return value;
  return JSON.stringify(value);
}

export function finding(
  ctx: LintContext,
  rule: string,
  level: FindingLevel,
  keyPath: string,
  found: string | undefined,
  message: string,
  fix: string,
): Finding {
  return { rule, level, file: ctx.file, keyPath, found, message, fix };
}

export const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

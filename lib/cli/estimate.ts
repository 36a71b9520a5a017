import type { AppConfig } from '../config/app-config';
import type { LoadedRecipe } from '../config/load-recipes';
import type { RecipeDocument } from '../config/recipe-schema';
import { requiredNumberValue } from '../config/recipe-values';
import { analyzeRecipe } from '../recipes/recipe-analysis';
import type { DatasetStats } from './dataset';
import { formatCount, formatUsd } from './output';

/** The recipe's run estimate redone with the measured dataset instead of the recipe's `platform.data` guess. */
export interface DataRunEstimate {
  /** `gpt-oss-20b LoRA attn, 1 epoch, ~1.2M training tokens`. */
  readonly summary: string;
  readonly hours: number;
  /** On-demand cost of one run (an upper bound with spot). */
  readonly usd: number;
  /** `1 × ml.p5.48xlarge`. */
  readonly instances: string;
  readonly spot: boolean;
  readonly trainingTokens: number;
  readonly tokensPerSecond: number;
  /** Price source, and a hint when the recipe's data-size figures are far from the measured ones. */
  readonly note?: string;
}

/**
 * Runs the recipe estimator (lib/recipes) with `platform.data.examples` and `avg_tokens_per_example` set
 * from the file just validated. Undefined when the estimator cannot price the recipe (unknown model or
 * instance); the recipe report explains why.
 */
export function estimateRunForData(
  recipe: LoadedRecipe,
  stats: DatasetStats,
  config: Pick<AppConfig, 'prices'>,
): DataRunEstimate | undefined {
  const measured = { examples: stats.examples, avgTokens: Math.max(1, Math.round(stats.averageTokens)) };
  const doc = recipe.document;
  const data = doc.platform.data;
  const withData = {
    ...doc,
    platform: {
      ...doc.platform,
      data: { ...data, examples: measured.examples, avg_tokens_per_example: measured.avgTokens },
    },
  } as RecipeDocument;
  const analysis = analyzeRecipe(withData, config);
  const run = analysis.run;
  if (!run || !analysis.model || !analysis.instance) return undefined;
  const epochs = requiredNumberValue(doc, 'num_train_epochs');
  const steps = requiredNumberValue(doc, 'max_steps');
  const maxSteps = steps > 0 ? steps : undefined;
  const schedule = maxSteps ? `${maxSteps} steps` : `${epochs} epoch${epochs === 1 ? '' : 's'}`;
  const notes = [
    `${formatUsd(run.price.usdPerHour)}/h per instance (${run.price.priceSource}, ${run.price.priceDate}` +
      `${run.price.verified ? '' : ', indicative'})${run.spot ? '; on-demand shown, spot bills less' : ''}`,
  ];
  const off = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b) > 0.2;
  if (off(data.examples, measured.examples) || off(data.avg_tokens_per_example, measured.avgTokens)) {
    notes.push(
      `${recipe.file} assumes ${formatCount(data.examples)} examples × ${formatCount(data.avg_tokens_per_example)} tokens; ` +
        `set platform.data.examples: ${measured.examples} and avg_tokens_per_example: ${measured.avgTokens} ` +
        'so the recipe report prices this data',
    );
  }
  return {
    summary: `${analysis.model.shortName} ${analysis.method}, ${schedule}, ~${formatCount(run.trainingTokens)} training tokens`,
    hours: run.totalHours,
    usd: run.costUsd,
    instances: `${doc.platform.training.instance_count} × ${analysis.instance.instanceType}`,
    spot: run.spot,
    trainingTokens: run.trainingTokens,
    tokensPerSecond: run.tokensPerSecond,
    note: notes.join('\n            '),
  };
}

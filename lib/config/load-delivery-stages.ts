import type { AppConfig } from './app-config';
import { ConfigError } from './errors';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY, loadAppConfig } from './load-app-config';

/** One stage of the delivery pipeline with its validated config. */
export interface DeliveryStage {
  /** The stage config file, as the delivery block names it. */
  readonly configFile: string;
  /** Manual approval in the pipeline before this stage deploys. */
  readonly approval: 'manual' | 'none';
  /** The stage's config: cdk.json context `gptOss` (without `delivery`) plus the stage file. */
  readonly config: AppConfig;
}

/**
 * Loads each stage's config the way `cdk deploy -c configFile=<stage file>` does, so the pipeline deploys
 * exactly what the laptop path would. The delivery block itself is not inherited by the stages.
 */
export function loadDeliveryStages(
  context: Record<string, unknown>,
  deliveryConfig: AppConfig,
  cwd = process.cwd(),
): DeliveryStage[] {
  const delivery = deliveryConfig.delivery;
  if (!delivery) return [];
  const fileName = context[CONFIG_FILE_CONTEXT_KEY];
  const source = typeof fileName === 'string' ? fileName : `cdk.json context "${CONFIG_CONTEXT_KEY}"`;
  // the pipeline stack lives in the tools account; cross-account deployment needs it named at synth.
  const missing = [
    ...(deliveryConfig.account ? [] : ['account: missing; the delivery pipeline needs its (tools) account id']),
    ...(deliveryConfig.region ? [] : ['region: missing; the delivery pipeline needs its region, e.g. "us-east-1"']),
  ];
  if (missing.length > 0) throw new ConfigError(source, missing);
  const base = context[CONFIG_CONTEXT_KEY];
  const baseWithoutDelivery =
    base && typeof base === 'object' && !Array.isArray(base)
      ? Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'delivery'))
      : base;
  const stages = delivery.stages.map((stage, i) => {
    const config = loadAppConfig(
      { ...context, [CONFIG_CONTEXT_KEY]: baseWithoutDelivery, [CONFIG_FILE_CONTEXT_KEY]: stage.configFile },
      cwd,
    );
    const problems: string[] = [];
    if (config.delivery) {
      problems.push('delivery: a stage config must not hold a delivery block; keep it in the delivery config only');
    }
    // a pipeline deploys each stage to a named account and region (cross-account needs both at synth).
    if (!config.account) problems.push(`account: missing; delivery stage ${i + 1} needs its 12-digit account id`);
    if (!config.region) problems.push(`region: missing; delivery stage ${i + 1} needs its region, e.g. "us-east-1"`);
    if (problems.length > 0) throw new ConfigError(stage.configFile, problems);
    return { configFile: stage.configFile, approval: stage.approval, config };
  });
  const seen = new Map<string, string>();
  for (const stage of stages) {
    const other = seen.get(stage.config.stage);
    if (other) {
      throw new ConfigError(stage.configFile, [
        `stage: found "${stage.config.stage}", also the stage of ${other}; give every delivery stage its own name`,
      ]);
    }
    seen.set(stage.config.stage, stage.configFile);
  }
  return stages;
}

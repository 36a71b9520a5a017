import { findInstance, instancePrice } from '../../lib/recipes/instance-catalog';
import { MODEL_CATALOG } from '../../lib/recipes/model-catalog';
import { estimateRun, type RunInput, trainingTokens } from '../../lib/recipes/run-estimator';

const M20 = MODEL_CATALOG['openai/gpt-oss-20b'];
const M120 = MODEL_CATALOG['openai/gpt-oss-120b'];

function instance(type: string) {
  const found = findInstance(type);
  if (!found?.gpu) throw new Error(`catalog lacks GPU instance ${type}`);
  return found;
}

const cookbook = (): RunInput => {
  const h100 = instance('ml.p5.4xlarge');
  return {
    model: M20,
    method: 'lora',
    gpu: h100.gpu!,
    gpusPerNode: 1,
    instanceCount: 1,
    sharding: 'replicated',
    gradientCheckpointing: true,
    trainingTokens: trainingTokens({
      examples: 1000,
      avgTokensPerExample: 1024,
      evalSplit: 0,
      epochs: 1,
      maxSteps: -1,
      maxLength: 2048,
      packing: false,
      globalBatch: 16,
    }),
    price: instancePrice(h100),
    spot: false,
  };
};

describe('run estimator', () => {
  test('reproduces the cookbook point: 20b LoRA, 1×H100, 1000 examples × 1 epoch ≈ 18 min (±20%)', () => {
    // GIVEN the cookbook run (1024 tokens per example assumed) WHEN estimated
    const run = estimateRun(cookbook());
    // THEN the training loop takes about 18 minutes; setup is billed on top
    const minutes = run.trainingHours * 60;
    expect(minutes).toBeGreaterThan(18 * 0.8);
    expect(minutes).toBeLessThan(18 * 1.2);
    expect(run.totalHours).toBeCloseTo(run.trainingHours + run.setupHours, 10);
  });

  test('cost = hours × price × instance count', () => {
    const p5 = instance('ml.p5.48xlarge');
    const input: RunInput = {
      ...cookbook(),
      model: M120,
      gpu: p5.gpu!,
      gpusPerNode: 8,
      instanceCount: 2,
      sharding: 'sharded',
      price: instancePrice(p5),
    };
    const run = estimateRun(input);
    expect(run.costUsd).toBeCloseTo(run.totalHours * 63.3 * 2, 6);
  });

  test('slower GPUs, full fine-tuning and larger models take longer', () => {
    const base = estimateRun(cookbook()).trainingHours;
    expect(estimateRun({ ...cookbook(), gpu: instance('ml.g6e.xlarge').gpu! }).trainingHours).toBeGreaterThan(base);
    expect(estimateRun({ ...cookbook(), method: 'full' }).trainingHours).toBeGreaterThan(base);
    expect(estimateRun({ ...cookbook(), model: M120 }).trainingHours).toBeGreaterThan(base);
    expect(estimateRun({ ...cookbook(), gradientCheckpointing: false }).trainingHours).toBeLessThan(base);
  });

  test('an app-config price override replaces the catalog price and is marked as such', () => {
    const h100 = instance('ml.p5.4xlarge');
    const price = instancePrice(h100, { 'ml.p5.4xlarge': 12.5 });
    expect(price).toMatchObject({ usdPerHour: 12.5, priceSource: 'app config `prices` override', verified: true });
    const run = estimateRun({ ...cookbook(), price, spot: true });
    expect(run.costUsd).toBeCloseTo(run.totalHours * 12.5, 6);
    expect(run.spot).toBe(true);
  });

  test('tokens follow the eval split, epochs, packing and max_steps', () => {
    const t = {
      examples: 1000,
      avgTokensPerExample: 3000,
      evalSplit: 0.1,
      epochs: 2,
      maxSteps: -1,
      maxLength: 2048,
      packing: false,
      globalBatch: 16,
    };
    expect(trainingTokens(t)).toBe(900 * 2048 * 2); // truncated at max_length without packing
    expect(trainingTokens({ ...t, packing: true })).toBe(900 * 3000 * 2);
    expect(trainingTokens({ ...t, evalSplit: 100 })).toBe(900 * 2048 * 2); // a row count
    expect(trainingTokens({ ...t, maxSteps: 50 })).toBe(50 * 16 * 2048);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveLoraTargets } from '../../lib/recipes/lora-targets';
import {
  estimateTrainingMemory,
  GiB,
  longestFittingSeqLen,
  REFERENCE_GPU_BYTES,
  type TrainingShape,
} from '../../lib/recipes/memory-estimator';
import { MODEL_CATALOG } from '../../lib/recipes/model-catalog';
import { attentionKind } from '../../lib/recipes/recipe-analysis';
import { buildRecipeReport, renderRecipeReport } from '../../lib/recipes/report';
import { MEASURED_RATES, measuredRatesFor } from '../../lib/recipes/run-estimator';
import { CONFIG, goodRecipe, writeRecipe } from './support';

const M20 = MODEL_CATALOG['openai/gpt-oss-20b'];
const lora = resolveLoraTargets(M20, {
  usePeft: true,
  r: 8,
  targetModules: ['all-linear'],
  targetParameters: [7, 15, 23].flatMap((l) => [`${l}.mlp.experts.gate_up_proj`, `${l}.mlp.experts.down_proj`]),
  modulesToSave: [],
});
/** The default 20b recipe's shape on one GPU (recipes/gpt-oss-20b-multilingual-lora.yaml). */
const recipeShape = (attention: TrainingShape['attention'], microBatch = 2): TrainingShape => ({
  model: M20,
  method: 'lora',
  weightBytes: 2,
  loraParams: lora.loraParams,
  modulesToSaveParams: 0,
  sharding: 'replicated',
  worldSize: 1,
  gpusPerNode: 1,
  fp32MasterWeights: false,
  optimizer: 'adamw',
  microBatch,
  seqLen: 2048,
  gradientCheckpointing: true,
  activationOffloading: false,
  attention,
  loss: 'chunked',
  mergeAdapter: true,
});

describe('longest max_length on one 80 GB GPU', () => {
  test('is the last multiple of 1024 that fits: the next one does not', () => {
    for (const attention of ['eager', 'memory-efficient'] as const) {
      const shape = recipeShape(attention);
      const longest = longestFittingSeqLen(shape);
      expect(longest % 1024).toBe(0);
      expect(estimateTrainingMemory({ ...shape, seqLen: longest }).perGpuBytes).toBeLessThanOrEqual(
        REFERENCE_GPU_BYTES,
      );
      expect(estimateTrainingMemory({ ...shape, seqLen: longest + 1024 }).perGpuBytes).toBeGreaterThan(
        REFERENCE_GPU_BYTES,
      );
    }
  });

  test('the memory-lean attention path (no L×L scores) reaches several times the eager context', () => {
    const eager = longestFittingSeqLen(recipeShape('eager'));
    const lean = longestFittingSeqLen(recipeShape('memory-efficient'));
    expect(eager).toBeGreaterThanOrEqual(4096);
    expect(lean).toBeGreaterThanOrEqual(3 * eager);
  });

  test('agrees with what the H200 measurements say fits in 80 GiB (test/recipes/gpu/measured-h200.json)', () => {
    const measured = JSON.parse(fs.readFileSync(path.join(__dirname, 'gpu', 'measured-h200.json'), 'utf8')) as {
      runs: { micro_batch: number; seq_len: number; peak_reserved_gib: number }[];
    };
    // The measurement ran full logits (loss: 'full'), as the existing fixture test models it.
    for (const run of measured.runs) {
      const shape = { ...recipeShape('eager', run.micro_batch), loss: 'full' as const, mergeAdapter: false };
      const fitsMeasured = run.peak_reserved_gib * GiB <= REFERENCE_GPU_BYTES;
      expect(longestFittingSeqLen(shape) >= run.seq_len).toBe(fitsMeasured);
    }
  });

  test('the chunked attention holds one 1024-query block of scores: eager up to 1024 tokens, far less beyond', () => {
    const scores = (attention: TrainingShape['attention'], seqLen: number) =>
      estimateTrainingMemory({ ...recipeShape(attention), seqLen }).components.find((c) => c.key === 'attentionScores')
        ?.bytes ?? NaN;
    expect(scores('chunked', 1024)).toBe(scores('eager', 1024));
    expect(scores('chunked', 8192)).toBeCloseTo(scores('eager', 8192) / 8, 0);
    expect(scores('memory-efficient', 8192)).toBe(0);
    const eager = longestFittingSeqLen(recipeShape('eager'));
    const chunked = longestFittingSeqLen(recipeShape('chunked'));
    expect(chunked).toBeGreaterThan(eager);
    expect(chunked).toBeLessThan(longestFittingSeqLen(recipeShape('memory-efficient')));
  });

  test('attn_implementation maps to its memory model', () => {
    expect(attentionKind(undefined)).toBe('eager');
    expect(attentionKind('eager')).toBe('eager');
    expect(attentionKind('gpt_oss_chunked')).toBe('chunked');
    expect(attentionKind('flex_attention')).toBe('memory-efficient');
  });

  test('returns 0 when not even 1024 tokens fit', () => {
    expect(longestFittingSeqLen(recipeShape('eager'), 10 * GiB)).toBe(0);
  });
});

describe('measured rates by attention path', () => {
  test('the eager rate carries its card, date and source; the memory-lean path is not measured yet', () => {
    expect(measuredRatesFor('openai/gpt-oss-20b', 'lora', 'eager').length).toBeGreaterThan(0);
    expect(measuredRatesFor('openai/gpt-oss-120b', 'lora', 'eager')).toEqual([]);
    expect(measuredRatesFor('openai/gpt-oss-20b', 'full', 'eager')).toEqual([]);
    for (const r of MEASURED_RATES) {
      expect(r.card).toMatch(/NVIDIA/);
      expect(r.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(fs.existsSync(path.join(__dirname, '..', '..', r.source))).toBe(true);
    }
    expect(measuredRatesFor('openai/gpt-oss-20b', 'lora', 'memory-efficient')).toEqual([]);
  });

  test('the report details show the longest context and the rate, or "not measured", per path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-'));
    writeRecipe(goodRecipe(), 'eager-path', dir);
    const flex = goodRecipe();
    flex.attn_implementation = 'flex_attention';
    flex.model_init_kwargs = { experts_implementation: 'grouped_mm' };
    writeRecipe(flex, 'flex-path', dir);
    const chunked = goodRecipe();
    chunked.attn_implementation = 'gpt_oss_chunked';
    writeRecipe(chunked, 'chunked-path', dir);
    const text = renderRecipeReport(buildRecipeReport(dir, CONFIG, { cwd: dir }), { details: true });
    expect(text).toMatch(
      /longest max_length within 90% of an 80 GB GPU \(eager attention, micro-batch \d+, [^)]*\): \d+ tokens\n/,
    );
    expect(text).toMatch(/measured rate of this attention path: 3434 tokens\/s on NVIDIA H200, 2026-11-27/);
    expect(text).toMatch(
      /longest max_length within 90% of an 80 GB GPU \(memory-efficient attention \(no L×L scores\)[^:]*: \d+ tokens; eager: \d+\n/,
    );
    expect(text).toMatch(/measured rate of this attention path: not measured on a GPU/);
    expect(text).toMatch(/\(chunked attention \(gpt_oss_chunked\), micro-batch \d+[^:]*: \d+ tokens; eager: \d+\n/);
    expect(text).toMatch(
      /chunked attention scores +\d+\.\d+ GiB +\[\d+, 64, 1024, \d+\] bf16 = [\d.]+ GiB per query block/,
    );
  });
});

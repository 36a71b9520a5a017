import { TRAINING_LIBRARY_VERSIONS } from '../../lib/config/recipe-schema';
import { formatFinding } from '../../lib/recipes/findings';
import { LINT_RULES } from '../../lib/recipes/rules';
import { compareVersions, PEFT_ZERO3_PARAMWRAPPER_FIX } from '../../lib/recipes/rules/expert-lora-zero3';
import { modelAndLoraCases } from './lint-cases/model-and-lora';
import type { RuleCase } from './lint-cases/rule-case';
import { servingCases } from './lint-cases/serving';
import { trainingCases } from './lint-cases/training';
import { findingsOf, goodRecipe, validate } from './support';

const CASES: RuleCase[] = [...modelAndLoraCases, ...trainingCases, ...servingCases];

describe('recipe lint rules', () => {
  test('the good recipe has no finding at all', () => {
    // GIVEN a recipe that follows every rule WHEN it is validated
    const v = validate(goodRecipe());
    // THEN it is valid with no errors or warnings
    expect(v.findings.map(formatFinding)).toEqual([]);
    expect(v.valid).toBe(true);
  });

  test('every rule has a failing case below', () => {
    const covered = new Set(CASES.map((c) => c.rule));
    expect(LINT_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  describe.each(CASES)('$rule: $what', (c) => {
    test('passes on the good recipe', () => {
      // GIVEN the good recipe (same file name and PEFT version as the failing case)
      const v = validate(goodRecipe(), 'good-recipe', { peftVersion: c.peftVersion });
      // THEN the rule reports nothing
      expect(findingsOf(v, c.rule)).toEqual([]);
    });

    test(`fails with a ${c.level} naming file, key, value and fix`, () => {
      // GIVEN the good recipe with one mistake
      const doc = goodRecipe();
      c.mutate(doc);
      // WHEN it is validated
      const v = validate(doc, c.name ?? 'good-recipe', { peftVersion: c.peftVersion });
      // THEN the rule reports it with the expected level, key path and text
      const hits = findingsOf(v, c.rule).filter((f) => f.keyPath === c.keyPath && f.level === c.level);
      expect(hits).toHaveLength(1);
      const line = formatFinding(hits[0]);
      // with the position of the value (or of the enclosing key when the value is missing); a file-name problem
      // has no position inside the file
      const where = c.keyPath === '(file name)' ? '' : `:${hits[0].line}:${hits[0].column}`;
      if (where) expect(hits[0].line).toBeGreaterThan(0);
      expect(line).toContain(`${c.name ?? 'good-recipe'}.yaml${where}: ${c.keyPath}: `);
      expect(line).toMatch(c.message);
      expect(v.valid).toBe(c.level === 'warning' ? v.findings.every((f) => f.level !== 'error') : false);
    });
  });
});

describe('expert LoRA under ZeRO-3 follows the pinned PEFT version', () => {
  const zero3ExpertLora = () => {
    const doc = goodRecipe();
    doc.platform.training.instance_type = 'ml.p5.48xlarge';
    doc.platform.training.distribution = 'zero3';
    return doc;
  };

  test('fails with a PEFT release before peft#3576', () => {
    expect(findingsOf(validate(zero3ExpertLora(), 'x', { peftVersion: '0.18.1' }), 'expert-lora-zero3')).toHaveLength(
      1,
    );
  });

  test('passes with the first release that has peft#3576 and with the pinned version', () => {
    expect(PEFT_ZERO3_PARAMWRAPPER_FIX).toBe('0.21.0');
    expect(findingsOf(validate(zero3ExpertLora(), 'x', { peftVersion: '0.21.0' }), 'expert-lora-zero3')).toEqual([]);
    // the default is the version the training image pins (read from the generated field list)
    expect(TRAINING_LIBRARY_VERSIONS.peft).toMatch(/^\d+\.\d+\.\d+/);
    const pinned = findingsOf(validate(zero3ExpertLora()), 'expert-lora-zero3');
    expect(pinned).toHaveLength(compareVersions(TRAINING_LIBRARY_VERSIONS.peft, '0.21.0') < 0 ? 1 : 0);
  });

  test('passes for attention-only LoRA under ZeRO-3 even with an old PEFT', () => {
    const doc = zero3ExpertLora();
    delete doc.lora_target_parameters;
    expect(findingsOf(validate(doc, 'x', { peftVersion: '0.17.0' }), 'expert-lora-zero3')).toEqual([]);
  });

  test('compares versions numerically', () => {
    expect(compareVersions('0.21.2', '0.21.0')).toBeGreaterThan(0);
    expect(compareVersions('0.9.0', '0.21.0')).toBeLessThan(0);
    expect(compareVersions('0.21', '0.21.0')).toBe(0);
  });
});

describe('all findings of a file are reported at once', () => {
  test('fails with every mistake of a file listed, schema problems included', () => {
    // GIVEN a recipe with a misspelt key and five rule violations
    const doc = goodRecipe();
    doc.lerning_rate = 1e-4;
    doc.max_seq_length = 4096;
    doc.lora_dropout = 0.1;
    doc.attn_implementation = 'flash_attention_2';
    doc.platform.training.checkpoints = false;
    doc.eval_split_size = 0;
    // WHEN it is validated
    const v = validate(doc);
    // THEN each one is a separate error
    const rules = v.findings.filter((f) => f.level === 'error').map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'schema',
        'max-seq-length',
        'target-parameters-dropout',
        'attention-implementation',
        'spot-without-checkpoints',
        'quality-gate-without-eval',
      ]),
    );
    expect(v.findings.find((f) => f.rule === 'schema')?.keyPath).toBe('lerning_rate');
    // max_seq_length is explained by its rule, not repeated as an unknown key
    expect(v.findings.filter((f) => f.keyPath === 'max_seq_length')).toHaveLength(1);
    expect(v.valid).toBe(false);
  });
});

describe('hyphenated instance families', () => {
  test('ml.p6-b200.48xlarge passes the schema and the instance rules', () => {
    // GIVEN a recipe on the Blackwell instance, whose family name has a hyphen
    const doc = goodRecipe();
    doc.platform.training.instance_type = 'ml.p6-b200.48xlarge';
    doc.platform.training.distribution = 'ddp';
    // WHEN validated THEN the schema accepts it and it is known to the catalog
    const v = validate(doc);
    expect(v.findings.filter((f) => f.rule === 'schema' || f.rule === 'training-instance')).toEqual([]);
    expect(v.analysis?.instance?.gpu?.architecture).toBe('Blackwell');
  });
});

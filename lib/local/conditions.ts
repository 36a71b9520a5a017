import type { Json } from '../pipeline/expressions';

/**
 * Evaluates the conditions of a Condition step whose operands are already resolved to scalars. The condition
 * types and their JSON keys are the pipeline definition schema's (`LeftValue`/`RightValue`, `Or` with
 * `Conditions`, `Not` with `Condition`, `In` with `QueryValue`/`Values`); any other key is an error, as the
 * service rejects it.
 * @see https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/
 */

type Obj = { [key: string]: Json };

function isObject(value: Json | undefined): value is Obj {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function ordered(where: string, left: Json, right: Json): [number | string, number | string] {
  if (typeof left === 'number' && typeof right === 'number') return [left, right];
  if (typeof left === 'string' && typeof right === 'string') return [left, right];
  return fail(where, `cannot order ${JSON.stringify(left)} against ${JSON.stringify(right)}`);
}

/** Whether one condition holds. `where` names the step and condition in errors. */
export function evaluateCondition(condition: Json, where: string): boolean {
  if (!isObject(condition)) return fail(where, `a condition must be an object, found ${JSON.stringify(condition)}`);
  const type = condition.Type;
  const keys = (allowed: string[]): void => {
    const extra = Object.keys(condition).filter((k) => k !== 'Type' && !allowed.includes(k));
    if (extra.length > 0)
      fail(where, `a ${String(type)} condition has no key ${extra.join(', ')} (expected ${allowed.join(', ')})`);
    for (const k of allowed) if (!(k in condition)) fail(where, `a ${String(type)} condition needs ${k}`);
  };
  switch (type) {
    case 'Equals':
    case 'NotEquals':
    case 'GreaterThan':
    case 'GreaterThanOrEqualTo':
    case 'LessThan':
    case 'LessThanOrEqualTo': {
      keys(['LeftValue', 'RightValue']);
      const { LeftValue: l, RightValue: r } = condition;
      if (type === 'Equals') return l === r;
      if (type === 'NotEquals') return l !== r;
      const [a, b] = ordered(`${where} (${type})`, l, r);
      if (type === 'GreaterThan') return a > b;
      if (type === 'GreaterThanOrEqualTo') return a >= b;
      if (type === 'LessThan') return a < b;
      return a <= b;
    }
    case 'In': {
      keys(['QueryValue', 'Values']);
      const values = condition.Values;
      if (!Array.isArray(values)) return fail(where, 'an In condition needs a Values list');
      return values.includes(condition.QueryValue);
    }
    case 'Or': {
      keys(['Conditions']);
      const list = condition.Conditions;
      if (!Array.isArray(list)) return fail(where, 'an Or condition needs a Conditions list');
      return list.some((c, i) => evaluateCondition(c, `${where}.Conditions[${i}]`));
    }
    case 'Not': {
      keys(['Condition']);
      return !evaluateCondition(condition.Condition, `${where}.Condition`);
    }
    default:
      return fail(where, `unknown condition type ${JSON.stringify(type)}`);
  }
}

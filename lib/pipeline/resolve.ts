import type { Json } from './expressions';

/**
 * Evaluates a rendered pipeline definition the way SageMaker does when a step starts: `Get` of a parameter
 * becomes its value (override or default), `Get` of an execution variable or step property becomes the
 * value supplied, and `Std:Join` joins the results. Used to check step arguments against the API model and
 * to preview what an execution with given parameters would send.
 */

/** A scalar a parameter or property evaluates to. */
export type Scalar = string | number | boolean;

export interface ResolveContext {
  /** Parameter values (overrides); parameters not listed take their `DefaultValue`. */
  readonly parameters?: Readonly<Record<string, Scalar>>;
  /** `Execution.<name>` values. @default - plausible placeholders, e.g. PipelineExecutionId `abcdef123456` */
  readonly execution?: Readonly<Record<string, string>>;
  /** `Steps.<name>.<path>` values keyed by the full `Steps...` path. @default - none; a step property fails */
  readonly steps?: Readonly<Record<string, Scalar>>;
}

/** One step of a definition, flattened out of condition branches. */
export interface DefinitionStep {
  readonly name: string;
  readonly type: string;
  readonly arguments: Json;
  /** The condition steps and branches that lead to this one, e.g. `SpotOrOnDemand.IfSteps`. */
  readonly branch: readonly string[];
}

const DEFAULT_EXECUTION: Readonly<Record<string, string>> = {
  PipelineExecutionId: 'abcdef123456',
  PipelineExecutionArn: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/example/execution/abcdef123456',
  PipelineName: 'example',
  PipelineArn: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/example',
  StartDateTime: '2026-01-01T00:00:00Z',
  CurrentDateTime: '2026-01-01T00:00:00Z',
};

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The declared parameters and their defaults. */
export function parameterDefaults(definition: Json): Record<string, Scalar> {
  if (!isObject(definition) || !Array.isArray(definition.Parameters)) return {};
  const out: Record<string, Scalar> = {};
  for (const p of definition.Parameters) {
    if (isObject(p) && typeof p.Name === 'string' && p.DefaultValue !== undefined && p.DefaultValue !== null) {
      out[p.Name] = p.DefaultValue as Scalar;
    }
  }
  return out;
}

/** Every step of a definition, nested ones included, depth first. */
export function definitionSteps(definition: Json): DefinitionStep[] {
  const out: DefinitionStep[] = [];
  const visit = (step: Json, branch: string[]): void => {
    if (!isObject(step)) return;
    const args = step.Arguments ?? null;
    out.push({ name: String(step.Name), type: String(step.Type), arguments: args, branch });
    if (step.Type === 'Condition' && isObject(args)) {
      for (const key of ['IfSteps', 'ElseSteps']) {
        const nested = args[key];
        if (Array.isArray(nested)) nested.forEach((s) => visit(s, [...branch, `${String(step.Name)}.${key}`]));
      }
    }
  };
  if (isObject(definition) && Array.isArray(definition.Steps)) definition.Steps.forEach((s) => visit(s, []));
  return out;
}

function scalarToString(value: Json): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`Std:Join can only join scalars, found ${JSON.stringify(value)}`);
}

/**
 * Resolves every expression inside `value`. Throws, naming the expression, when a parameter is undeclared,
 * an execution variable is unknown or a step property has no supplied value.
 */
export function resolveExpressions(value: Json, definition: Json, context: ResolveContext = {}): Json {
  const params = { ...parameterDefaults(definition), ...(context.parameters ?? {}) };
  const execution = { ...DEFAULT_EXECUTION, ...(context.execution ?? {}) };
  const steps = context.steps ?? {};
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'Get' && typeof v.Get === 'string') {
      const path = v.Get;
      if (path.startsWith('Parameters.')) {
        const name = path.slice('Parameters.'.length);
        if (!(name in params)) throw new Error(`${path}: no such parameter and no value supplied`);
        return params[name];
      }
      if (path.startsWith('Execution.')) {
        const name = path.slice('Execution.'.length);
        if (!(name in execution)) throw new Error(`${path}: unknown execution variable`);
        return execution[name];
      }
      if (path in steps) return steps[path];
      throw new Error(`${path}: step properties are only known at run time; supply a value in context.steps`);
    }
    if (keys.length === 1 && keys[0] === 'Std:Join' && isObject(v['Std:Join'])) {
      const join = v['Std:Join'];
      const values = Array.isArray(join.Values) ? join.Values.map(walk) : [];
      return values.map(scalarToString).join(typeof join.On === 'string' ? join.On : '');
    }
    const out: { [key: string]: Json } = {};
    for (const k of keys) out[k] = walk(v[k]);
    return out;
  };
  return walk(value);
}

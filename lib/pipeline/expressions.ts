/**
 * Typed values of a SageMaker pipeline definition: parameters, execution variables, step properties and
 * `Std:Join`. Each renders to the JSON the service expects (`{"Get": "Parameters.X"}`, ...) and records
 * what it refers to, so a definition can check every reference before it is uploaded.
 *
 * @see https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/
 */

/** JSON as written to the definition file. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The four value types a pipeline knows (parameter types, and what an expression evaluates to). */
export type PrimitiveType = 'String' | 'Integer' | 'Float' | 'Boolean';

/** Something an expression refers to; checked against the definition by {@link PipelineDefinition}. */
export type Reference =
  | { readonly kind: 'parameter'; readonly name: string }
  | { readonly kind: 'step'; readonly name: string; readonly path: string }
  | { readonly kind: 'execution'; readonly name: string };

/** A value resolved when the pipeline runs, typed by what it evaluates to. */
export abstract class Expression<T extends PrimitiveType = PrimitiveType> {
  protected constructor(public readonly valueType: T) {}

  /** The definition JSON of this expression. */
  public abstract toJson(): Json;

  /** Everything this expression refers to. */
  public abstract references(): Reference[];
}

/** A string field: a literal or a String-typed expression. */
export type StringValue = string | Expression<'String'>;
/** An integer field: a literal or an Integer-typed expression. */
export type IntegerValue = number | Expression<'Integer'>;
/** A float field: a literal or a Float/Integer-typed expression. */
export type FloatValue = number | Expression<'Float'> | Expression<'Integer'>;
/** A boolean field: a literal or a Boolean-typed expression. */
export type BooleanValue = boolean | Expression<'Boolean'>;
/** Any value a condition can compare. */
export type PrimitiveValue = string | number | boolean | Expression;

// ---------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------

const PARAMETER_NAME = /^[A-Za-z0-9\-_]{1,64}$/;
/** SageMaker caps a parameter description at 4096 characters (pipeline definition schema). */
const MAX_DESCRIPTION = 4096;

type DefaultOf<T extends PrimitiveType> = T extends 'String'
  ? string
  : T extends 'Integer' | 'Float'
    ? number
    : boolean;

/** Options shared by every parameter type. */
export interface ParameterOptions<V> {
  /** Shown next to the field in the Studio "Execute" form. */
  readonly description?: string;
  /** Pre-filled value; an execution that does not override the parameter uses it. */
  readonly defaultValue: V;
}

/**
 * A pipeline parameter: a value the user can change when starting an execution. Its `Get` expression is
 * the parameter itself, so a parameter can be used wherever a value of its type is expected.
 */
export class Parameter<T extends PrimitiveType = PrimitiveType> extends Expression<T> {
  /** A `String` parameter. */
  public static string(name: string, options: ParameterOptions<string>): Parameter<'String'> {
    return new Parameter(name, 'String', options);
  }

  /** An `Integer` parameter; the default must be a whole number. */
  public static integer(name: string, options: ParameterOptions<number>): Parameter<'Integer'> {
    if (!Number.isInteger(options.defaultValue)) {
      throw new Error(`pipeline parameter ${name}: default ${options.defaultValue} is not a whole number`);
    }
    return new Parameter(name, 'Integer', options);
  }

  /** A `Float` parameter. */
  public static float(name: string, options: ParameterOptions<number>): Parameter<'Float'> {
    if (!Number.isFinite(options.defaultValue)) {
      throw new Error(`pipeline parameter ${name}: default ${options.defaultValue} is not a finite number`);
    }
    return new Parameter(name, 'Float', options);
  }

  /** A `Boolean` parameter. */
  public static boolean(name: string, options: ParameterOptions<boolean>): Parameter<'Boolean'> {
    return new Parameter(name, 'Boolean', options);
  }

  public readonly description?: string;
  public readonly defaultValue: DefaultOf<T>;

  private constructor(
    public readonly name: string,
    type: T,
    options: ParameterOptions<DefaultOf<T>>,
  ) {
    super(type);
    if (!PARAMETER_NAME.test(name)) {
      throw new Error(`pipeline parameter name "${name}" must be 1-64 letters, digits, "-" or "_"`);
    }
    if (options.description !== undefined && options.description.length > MAX_DESCRIPTION) {
      throw new Error(`pipeline parameter ${name}: description is longer than ${MAX_DESCRIPTION} characters`);
    }
    this.description = options.description;
    this.defaultValue = options.defaultValue;
  }

  public toJson(): Json {
    return { Get: `Parameters.${this.name}` };
  }

  public references(): Reference[] {
    return [{ kind: 'parameter', name: this.name }];
  }

  /** The parameter's declaration in the definition's `Parameters` list. */
  public toDeclaration(): Json {
    return {
      Name: this.name,
      Type: this.valueType,
      DefaultValue: this.defaultValue,
      ...(this.description !== undefined ? { Description: this.description } : {}),
    };
  }

  /**
   * This parameter rendered as a string, for string-only fields such as hyperparameters: a one-element
   * `Std:Join` (what the SageMaker Python SDK's `to_string()` emits).
   */
  public asString(): Expression<'String'> {
    return this.valueType === 'String' ? (this as unknown as Expression<'String'>) : Join.of('', [this]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Execution variables
// ---------------------------------------------------------------------------------------------------------

/** Values SageMaker provides for each execution. */
export class ExecutionVariable extends Expression<'String'> {
  public static readonly PIPELINE_EXECUTION_ID = new ExecutionVariable('PipelineExecutionId');
  public static readonly PIPELINE_EXECUTION_ARN = new ExecutionVariable('PipelineExecutionArn');
  public static readonly PIPELINE_NAME = new ExecutionVariable('PipelineName');
  public static readonly PIPELINE_ARN = new ExecutionVariable('PipelineArn');
  public static readonly START_DATE_TIME = new ExecutionVariable('StartDateTime');
  public static readonly CURRENT_DATE_TIME = new ExecutionVariable('CurrentDateTime');

  /** The names SageMaker defines; anything else is rejected by the definition check. */
  public static readonly NAMES: readonly string[] = [
    'PipelineExecutionId',
    'PipelineExecutionArn',
    'PipelineName',
    'PipelineArn',
    'StartDateTime',
    'CurrentDateTime',
  ];

  private constructor(public readonly name: string) {
    super('String');
  }

  public toJson(): Json {
    return { Get: `Execution.${this.name}` };
  }

  public references(): Reference[] {
    return [{ kind: 'execution', name: this.name }];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Step properties
// ---------------------------------------------------------------------------------------------------------

/**
 * A property of a step's result, e.g. `Steps.Train.FinalMetricDataList['eval_loss'].Value`. Created by the
 * step classes (never from a free-form string), so the step and path are known to exist.
 */
export class StepProperty<T extends PrimitiveType = PrimitiveType> extends Expression<T> {
  /** @internal use the step's typed accessors. */
  public static create<T extends PrimitiveType>(stepName: string, path: string, type: T): StepProperty<T> {
    return new StepProperty(stepName, path, type);
  }

  private constructor(
    public readonly stepName: string,
    public readonly path: string,
    type: T,
  ) {
    super(type);
  }

  public toJson(): Json {
    return { Get: `Steps.${this.stepName}.${this.path}` };
  }

  public references(): Reference[] {
    return [{ kind: 'step', name: this.stepName, path: this.path }];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Std:Join
// ---------------------------------------------------------------------------------------------------------

/** `Std:Join`: the string values joined with a separator when the step runs. */
export class Join extends Expression<'String'> {
  /** Joins `values` (literals or expressions of any type) with `on`. */
  public static of(on: string, values: readonly PrimitiveValue[]): Join {
    if (values.length === 0) throw new Error('Std:Join needs at least one value');
    return new Join(on, values);
  }

  private constructor(
    public readonly on: string,
    public readonly values: readonly PrimitiveValue[],
  ) {
    super('String');
  }

  public toJson(): Json {
    return { 'Std:Join': { On: this.on, Values: this.values.map((v) => renderValue(v)) } };
  }

  public references(): Reference[] {
    return this.values.flatMap((v) => (v instanceof Expression ? v.references() : []));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------

/**
 * Renders a value tree (plain objects, arrays, literals and expressions) to definition JSON. Keys whose
 * value is `undefined` are dropped; key order is the order of the source object, so rendering is stable.
 */
export function renderValue(value: unknown): Json {
  if (value instanceof Expression) return value.toJson();
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot put ${value} in a pipeline definition`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v));
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = renderValue(v);
    }
    return out;
  }
  throw new Error(`cannot put a ${typeof value} in a pipeline definition`);
}

/** Every reference made anywhere inside a value tree. */
export function collectReferences(value: unknown): Reference[] {
  if (value instanceof Expression) return value.references();
  if (Array.isArray(value)) return value.flatMap((v) => collectReferences(v));
  if (value !== null && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).flatMap((v) => collectReferences(v));
  }
  return [];
}

import {
  type BooleanValue,
  collectReferences,
  Expression,
  type IntegerValue,
  type Json,
  type PrimitiveValue,
  type Reference,
  renderValue,
  StepProperty,
  type StringValue,
} from './expressions';

/**
 * Pipeline steps: Training, Condition, Fail and Lambda, the ones this platform's pipelines use. A step renders to
 * the definition's step envelope (`Name`, `Type`, `Arguments`, `DependsOn`, `RetryPolicies`, ...).
 */

const STEP_NAME = /^[A-Za-z0-9\-_]{1,64}$/;

/** Exception types a step retry policy can match (pipeline definition `RetryPolicies[].ExceptionType`). */
export type RetryExceptionType =
  | 'Step.SERVICE_FAULT'
  | 'Step.THROTTLING'
  | 'SageMaker.JOB_INTERNAL_ERROR'
  | 'SageMaker.CAPACITY_ERROR'
  | 'SageMaker.RESOURCE_LIMIT';

/** A step-level retry policy: SageMaker Pipelines re-runs the step when one of the exception types occurs. */
export interface RetryPolicy {
  readonly exceptionTypes: readonly RetryExceptionType[];
  /** Seconds before the first retry. */
  readonly intervalSeconds: number;
  /** Multiplier applied to the interval after each attempt. */
  readonly backoffRate: number;
  /** Retries at most this many times (1-20). */
  readonly maxAttempts: number;
}

function renderRetryPolicy(stepName: string, policy: RetryPolicy): Json {
  if (policy.exceptionTypes.length === 0) throw new Error(`step ${stepName}: a retry policy needs exception types`);
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 20) {
    throw new Error(
      `step ${stepName}: retry maxAttempts must be a whole number from 1 to 20, found ${policy.maxAttempts}`,
    );
  }
  if (policy.intervalSeconds < 0 || policy.backoffRate < 0) {
    throw new Error(`step ${stepName}: retry intervalSeconds and backoffRate must not be negative`);
  }
  return {
    ExceptionType: [...policy.exceptionTypes],
    IntervalSeconds: policy.intervalSeconds,
    BackoffRate: policy.backoffRate,
    MaxAttempts: policy.maxAttempts,
  };
}

/** Options of every step. */
export interface StepOptions {
  /** Shown in the Studio pipeline graph. @default - the name */
  readonly displayName?: string;
  /** @default - none */
  readonly description?: string;
  /** Steps that must finish first (beyond those implied by property references). @default - none */
  readonly dependsOn?: readonly Step[];
  /** @default - no step-level retries */
  readonly retryPolicies?: readonly RetryPolicy[];
}

/** A pipeline step. */
export abstract class Step {
  protected constructor(
    public readonly name: string,
    public readonly type: 'Training' | 'Condition' | 'Fail' | 'Lambda',
    protected readonly options: StepOptions,
  ) {
    if (!STEP_NAME.test(name)) throw new Error(`step name "${name}" must be 1-64 letters, digits, "-" or "_"`);
  }

  /** The step's `Arguments` as a value tree (literals and expressions). */
  protected abstract argumentsTree(): unknown;

  /** Steps nested inside this one (a condition's branches). */
  public children(): readonly Step[] {
    return [];
  }

  /** Everything this step's own arguments refer to (nested steps excluded). */
  public references(): Reference[] {
    return collectReferences(this.argumentsTree());
  }

  /** Names in `DependsOn`. */
  public dependsOnNames(): string[] {
    return (this.options.dependsOn ?? []).map((s) => s.name);
  }

  /** The step as definition JSON. */
  public toJson(): Json {
    const { displayName, description, dependsOn, retryPolicies } = this.options;
    return renderValue({
      Name: this.name,
      Type: this.type,
      Arguments: this.argumentsTree(),
      DependsOn: dependsOn && dependsOn.length > 0 ? dependsOn.map((s) => s.name) : undefined,
      DisplayName: displayName,
      Description: description,
      RetryPolicies:
        retryPolicies && retryPolicies.length > 0
          ? retryPolicies.map((p) => renderRetryPolicy(this.name, p))
          : undefined,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------------------

/** One SageMaker metric: the job's log lines matching `Regex` become the metric `Name`. */
export interface MetricDefinition {
  readonly Name: string;
  readonly Regex: string;
}

/** One input channel (S3 prefix). */
export interface TrainingChannel {
  readonly ChannelName: string;
  readonly DataSource: {
    readonly S3DataSource: {
      readonly S3DataType: 'S3Prefix' | 'ManifestFile' | 'AugmentedManifestFile';
      readonly S3Uri: StringValue;
      readonly S3DataDistributionType?: 'FullyReplicated' | 'ShardedByS3Key';
    };
  };
  readonly InputMode?: 'File' | 'FastFile' | 'Pipe';
  readonly CompressionType?: 'None' | 'Gzip';
  readonly ContentType?: StringValue;
}

/**
 * The `CreateTrainingJob` request a Training step sends, minus `TrainingJobName` (SageMaker Pipelines names
 * the job). Only the members this platform uses are typed; the botocore tests check the whole request.
 * @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
 */
export interface TrainingJobArguments {
  readonly AlgorithmSpecification: {
    readonly TrainingImage: StringValue;
    readonly TrainingInputMode: 'File' | 'FastFile' | 'Pipe';
    readonly ContainerEntrypoint?: readonly StringValue[];
    readonly MetricDefinitions?: readonly MetricDefinition[];
    readonly EnableSageMakerMetricsTimeSeries?: BooleanValue;
  };
  readonly HyperParameters?: Readonly<Record<string, StringValue>>;
  readonly RoleArn: StringValue;
  readonly InputDataConfig?: readonly TrainingChannel[];
  readonly OutputDataConfig: {
    readonly S3OutputPath: StringValue;
    readonly KmsKeyId?: StringValue;
    readonly CompressionType?: 'NONE' | 'GZIP';
  };
  readonly ResourceConfig: {
    readonly InstanceType: StringValue;
    readonly InstanceCount: IntegerValue;
    readonly VolumeSizeInGB: IntegerValue;
    readonly VolumeKmsKeyId?: StringValue;
    readonly KeepAlivePeriodInSeconds?: IntegerValue;
  };
  readonly VpcConfig?: { readonly SecurityGroupIds: readonly StringValue[]; readonly Subnets: readonly StringValue[] };
  readonly StoppingCondition: {
    readonly MaxRuntimeInSeconds: IntegerValue;
    readonly MaxWaitTimeInSeconds?: IntegerValue;
  };
  readonly EnableManagedSpotTraining?: BooleanValue;
  readonly CheckpointConfig?: { readonly S3Uri: StringValue; readonly LocalPath?: StringValue };
  readonly Environment?: Readonly<Record<string, StringValue>>;
  readonly RetryStrategy?: { readonly MaximumRetryAttempts: IntegerValue };
  readonly EnableNetworkIsolation?: BooleanValue;
  readonly EnableInterContainerTrafficEncryption?: BooleanValue;
  readonly Tags?: readonly { readonly Key: StringValue; readonly Value: StringValue }[];
}

/** A Training step: one SageMaker training job. */
export class TrainingStep extends Step {
  constructor(
    name: string,
    public readonly args: TrainingJobArguments,
    options: StepOptions = {},
  ) {
    super(name, 'Training', options);
    // CreateTrainingJob rejects two channels of one name; the job would see only one directory per name anyway.
    const channels = (args.InputDataConfig ?? []).map((c) => c.ChannelName);
    const twice = channels.filter((c, i) => channels.indexOf(c) !== i);
    if (twice.length > 0) throw new Error(`step ${name}: input channel "${twice[0]}" is defined twice`);
    const metrics = args.AlgorithmSpecification.MetricDefinitions ?? [];
    const seen = new Set<string>();
    for (const m of metrics) {
      if (seen.has(m.Name)) throw new Error(`step ${name}: metric "${m.Name}" is defined twice`);
      seen.add(m.Name);
    }
  }

  /**
   * The last value the job reported for `metric` (`Steps.<name>.FinalMetricDataList['<metric>'].Value`).
   * The metric must be one of the step's MetricDefinitions, or the property would never exist.
   */
  public finalMetricValue(metric: string): StepProperty<'Float'> {
    const names = (this.args.AlgorithmSpecification.MetricDefinitions ?? []).map((m) => m.Name);
    if (!names.includes(metric)) {
      throw new Error(
        `step ${this.name} reports no metric "${metric}"; its MetricDefinitions are: ${names.join(', ') || 'none'}`,
      );
    }
    if (metric.includes("'")) throw new Error(`metric name "${metric}" must not contain a quote`);
    return StepProperty.create(this.name, `FinalMetricDataList['${metric}'].Value`, 'Float');
  }

  /** The generated training job name. */
  public get trainingJobName(): StepProperty<'String'> {
    return StepProperty.create(this.name, 'TrainingJobName', 'String');
  }

  /** Where the job's model output landed (`ModelArtifacts.S3ModelArtifacts`). */
  public get modelArtifactsS3Uri(): StepProperty<'String'> {
    return StepProperty.create(this.name, 'ModelArtifacts.S3ModelArtifacts', 'String');
  }

  protected argumentsTree(): unknown {
    return this.args;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------

type BinaryConditionType =
  'Equals' | 'NotEquals' | 'GreaterThan' | 'GreaterThanOrEqualTo' | 'LessThan' | 'LessThanOrEqualTo';

/** A condition of a Condition step. */
export class Condition {
  public static equals(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('Equals', left, right);
  }
  public static notEquals(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('NotEquals', left, right);
  }
  public static greaterThan(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('GreaterThan', left, right);
  }
  public static greaterThanOrEqualTo(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('GreaterThanOrEqualTo', left, right);
  }
  public static lessThan(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('LessThan', left, right);
  }
  public static lessThanOrEqualTo(left: PrimitiveValue, right: PrimitiveValue): Condition {
    return Condition.binary('LessThanOrEqualTo', left, right);
  }
  /** True when any of the conditions is. */
  public static or(...conditions: Condition[]): Condition {
    if (conditions.length < 2) throw new Error('an Or condition needs at least two conditions');
    return new Condition({ Type: 'Or', Conditions: conditions.map((c) => c.tree) });
  }
  /** True when the condition is false. The operand's key is `Condition`, as in the definition schema and the SDK. */
  public static not(condition: Condition): Condition {
    return new Condition({ Type: 'Not', Condition: condition.tree });
  }

  private static binary(type: BinaryConditionType, left: PrimitiveValue, right: PrimitiveValue): Condition {
    if (!(left instanceof Expression) && !(right instanceof Expression)) {
      throw new Error(`a ${type} condition between two literals is constant; compare a parameter or step property`);
    }
    return new Condition({ Type: type, LeftValue: left, RightValue: right });
  }

  private constructor(private readonly tree: Record<string, unknown>) {}

  public toJson(): Json {
    return renderValue(this.tree);
  }

  public references(): Reference[] {
    return collectReferences(this.tree);
  }
}

/** A Condition step: runs `ifSteps` when every condition holds, `elseSteps` otherwise. */
export class ConditionStep extends Step {
  constructor(
    name: string,
    public readonly props: {
      readonly conditions: readonly Condition[];
      readonly ifSteps?: readonly Step[];
      readonly elseSteps?: readonly Step[];
    },
    options: StepOptions = {},
  ) {
    super(name, 'Condition', options);
    if (props.conditions.length === 0) throw new Error(`condition step ${name} has no conditions`);
    if ((props.ifSteps ?? []).length + (props.elseSteps ?? []).length === 0) {
      throw new Error(`condition step ${name} has neither if nor else steps`);
    }
  }

  /** Whether the conditions held (`Steps.<name>.Outcome`). */
  public get outcome(): StepProperty<'Boolean'> {
    return StepProperty.create(this.name, 'Outcome', 'Boolean');
  }

  public children(): readonly Step[] {
    return [...(this.props.ifSteps ?? []), ...(this.props.elseSteps ?? [])];
  }

  public references(): Reference[] {
    return this.props.conditions.flatMap((c) => c.references());
  }

  protected argumentsTree(): unknown {
    // branches carry the whole nested step, as the SageMaker SDK renders them.
    return {
      Conditions: this.props.conditions.map((c) => c.toJson()),
      IfSteps: (this.props.ifSteps ?? []).map((s) => s.toJson()),
      ElseSteps: (this.props.elseSteps ?? []).map((s) => s.toJson()),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fail
// ---------------------------------------------------------------------------------------------------------

/** A Fail step: ends the execution as Failed with an error message (which may be a `Std:Join`). */
export class FailStep extends Step {
  constructor(
    name: string,
    public readonly errorMessage: StringValue,
    options: StepOptions = {},
  ) {
    super(name, 'Fail', options);
  }

  protected argumentsTree(): unknown {
    return { ErrorMessage: this.errorMessage };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Lambda
// ---------------------------------------------------------------------------------------------------------

/** The type of a Lambda step output (`OutputParameters[].OutputType`). */
export type LambdaOutputType = 'String' | 'Integer' | 'Boolean' | 'Float';

/**
 * A Lambda step: invokes `functionArn` with `Arguments` as the event (parameters resolved) and exposes the
 * declared keys of the flat JSON object it returns as `Steps.<name>.OutputParameters['<key>']`. Shape: the
 * `LambdaStep` of the SageMaker pipeline definition JSON schema (Name, Type, FunctionArn, Arguments,
 * OutputParameters; no retry policies).
 */
export class LambdaStep<O extends Record<string, LambdaOutputType> = Record<string, LambdaOutputType>> extends Step {
  constructor(
    name: string,
    public readonly props: {
      readonly functionArn: string;
      readonly arguments: Readonly<Record<string, unknown>>;
      readonly outputs: O;
    },
    options: Omit<StepOptions, 'retryPolicies'> = {},
  ) {
    super(name, 'Lambda', options);
    for (const key of Object.keys(props.outputs)) {
      if (!/^[A-Za-z0-9_]+$/.test(key))
        throw new Error(`lambda step ${name}: output "${key}" must be letters, digits or _`);
    }
  }

  /** The value the function returned under `key`. */
  public output<K extends keyof O & string>(key: K): StepProperty<O[K]> {
    if (!(key in this.props.outputs)) throw new Error(`lambda step ${this.name} declares no output "${key}"`);
    return StepProperty.create(this.name, `OutputParameters['${key}']`, this.props.outputs[key]);
  }

  public toJson(): Json {
    const base = super.toJson() as Record<string, Json>;
    return {
      ...base,
      FunctionArn: this.props.functionArn,
      OutputParameters: Object.entries(this.props.outputs).map(([OutputName, OutputType]) => ({
        OutputName,
        OutputType,
      })),
    };
  }

  protected argumentsTree(): unknown {
    return this.props.arguments;
  }
}

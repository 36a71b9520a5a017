import { ExecutionVariable, type Json, type Parameter, type Reference } from './expressions';
import type { Step } from './steps';

/** The only definition format version SageMaker accepts. */
export const PIPELINE_DEFINITION_VERSION = '2020-12-01';

/** CreatePipeline's `PipelineDefinition` maximum (botocore model), in characters. */
export const MAX_PIPELINE_DEFINITION_LENGTH = 1_048_576;

export interface PipelineDefinitionProps {
  readonly parameters: readonly Parameter[];
  /** Top-level steps; steps nested in a condition's branches are reached through it. */
  readonly steps: readonly Step[];
}

/**
 * A whole pipeline definition. Construction checks what SageMaker would otherwise reject at create or run
 * time: unique parameter and step names, and every `Get` (parameter, step property, execution variable)
 * and `DependsOn` pointing at something that exists.
 */
export class PipelineDefinition {
  public readonly parameters: readonly Parameter[];
  public readonly steps: readonly Step[];

  constructor(props: PipelineDefinitionProps) {
    this.parameters = props.parameters;
    this.steps = props.steps;
    const problems = this.problems();
    if (problems.length > 0) {
      throw new Error(`invalid pipeline definition:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }

  /** Every step, nested ones included, depth first in definition order. */
  public allSteps(): Step[] {
    const out: Step[] = [];
    const visit = (s: Step): void => {
      out.push(s);
      s.children().forEach(visit);
    };
    this.steps.forEach(visit);
    return out;
  }

  /** Finds a step (nested ones included) by name. */
  public step(name: string): Step | undefined {
    return this.allSteps().find((s) => s.name === name);
  }

  /** Every reference made by every step. */
  public references(): { readonly step: string; readonly ref: Reference }[] {
    return this.allSteps().flatMap((s) => s.references().map((ref) => ({ step: s.name, ref })));
  }

  /** The definition as JSON. */
  public toJson(): Json {
    return {
      Version: PIPELINE_DEFINITION_VERSION,
      Metadata: {},
      Parameters: this.parameters.map((p) => p.toDeclaration()),
      Steps: this.steps.map((s) => s.toJson()),
    };
  }

  /** The definition file's text: compact JSON, identical for identical input. */
  public render(): string {
    const text = JSON.stringify(this.toJson());
    if (text.length > MAX_PIPELINE_DEFINITION_LENGTH) {
      throw new Error(
        `pipeline definition is ${text.length} characters; SageMaker accepts at most ${MAX_PIPELINE_DEFINITION_LENGTH}`,
      );
    }
    return text;
  }

  private problems(): string[] {
    const problems: string[] = [];
    const paramNames = new Set<string>();
    for (const p of this.parameters) {
      if (paramNames.has(p.name)) problems.push(`parameter "${p.name}" is declared twice`);
      paramNames.add(p.name);
    }
    const steps = this.allSteps();
    const stepNames = new Set<string>();
    for (const s of steps) {
      if (stepNames.has(s.name)) problems.push(`step name "${s.name}" is used twice`);
      stepNames.add(s.name);
    }
    if (this.steps.length === 0) problems.push('the pipeline has no steps');
    for (const s of steps) {
      for (const dep of s.dependsOnNames()) {
        if (!stepNames.has(dep)) problems.push(`step ${s.name} depends on "${dep}", which is not in the pipeline`);
        if (dep === s.name) problems.push(`step ${s.name} depends on itself`);
      }
      for (const ref of s.references()) {
        if (ref.kind === 'parameter' && !paramNames.has(ref.name)) {
          problems.push(`step ${s.name} uses Parameters.${ref.name}, which is not declared`);
        } else if (ref.kind === 'step' && !stepNames.has(ref.name)) {
          problems.push(`step ${s.name} uses Steps.${ref.name}.${ref.path}, but there is no step ${ref.name}`);
        } else if (ref.kind === 'step' && ref.name === s.name) {
          problems.push(`step ${s.name} uses its own property ${ref.path}`);
        } else if (ref.kind === 'execution' && !ExecutionVariable.NAMES.includes(ref.name)) {
          problems.push(`step ${s.name} uses Execution.${ref.name}, which SageMaker does not define`);
        }
      }
    }
    return problems;
  }
}

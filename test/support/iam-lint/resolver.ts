import type { TemplateJson } from '../template';
import { SHAPES } from './resource-shapes';

/**
 * Intrinsic function resolution: turns `Ref`, `Fn::GetAtt`, `Fn::Sub` and the rest into plausible values
 * (dummy account {@link LINT_ACCOUNT}, the given region, partition `aws`).
 */

/** The dummy account id resolved for `AWS::AccountId`. */
export const LINT_ACCOUNT = '123456789012';

export class Resolver {
  constructor(
    private readonly templates: Readonly<Record<string, TemplateJson>>,
    private readonly region: string,
  ) {}

  resolve(value: unknown, stack: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stack)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(keys[0], obj[keys[0]], stack);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = this.resolve(obj[k], stack);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private str(value: unknown, stack: string): string {
    const v = this.resolve(value, stack);
    if (typeof v !== 'string') throw new Error(`expected a string, resolved ${JSON.stringify(v)} in ${stack}`);
    return v;
  }

  private intrinsic(fn: string, arg: unknown, stack: string): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), stack);
      case 'Fn::GetAtt': {
        const [logicalId, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        return this.getAtt(String(logicalId), String(attr), stack);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        const resolved = this.resolve(parts, stack) as unknown[];
        return resolved.map((p) => String(p)).join(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) return this.str(vars[name], stack);
          if (name.includes('.')) {
            const [id, attr] = name.split(/\.(.*)/);
            return String(this.getAtt(id, attr, stack));
          }
          return String(this.ref(name, stack));
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (this.resolve(list, stack) as unknown[])[Number(this.resolve(index, stack))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return this.str(text, stack).split(sep);
      }
      case 'Fn::GetAZs':
        return [`${this.region}a`, `${this.region}b`, `${this.region}c`];
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((a) => this.str(a, stack));
        const mappings = (this.templates[stack].Mappings ?? {}) as Record<
          string,
          Record<string, Record<string, unknown>>
        >;
        const value = mappings[map]?.[top]?.[second];
        if (value === undefined)
          throw new Error(`Fn::FindInMap ${map}.${top}.${second} in ${stack}: no such mapping entry`);
        return value;
      }
      case 'Fn::If': {
        // conditions are environment-dependent; lint the "true" branch (CDK's usual "feature on" case).
        const [, whenTrue] = arg as [string, unknown, unknown];
        return this.resolve(whenTrue, stack);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: unknown; OutputName: string };
        const producer = this.str(StackName, stack);
        return this.output(producer, OutputName, `Fn::GetStackOutput ${producer}.${OutputName} in ${stack}`);
      }
      case 'Fn::ImportValue': {
        const exportName = this.str(arg, stack);
        for (const [name, template] of Object.entries(this.templates)) {
          const outputs = (template.Outputs ?? {}) as Record<string, { Export?: { Name?: unknown } }>;
          for (const [outputName, output] of Object.entries(outputs)) {
            if (output.Export?.Name !== undefined && this.str(output.Export.Name, name) === exportName) {
              return this.output(name, outputName, `Fn::ImportValue ${exportName}`);
            }
          }
        }
        throw new Error(`Fn::ImportValue ${exportName} in ${stack}: no template exports it`);
      }
      default:
        throw new Error(
          `iam-lint cannot resolve ${fn} in ${stack}; add it to Resolver.intrinsic in test/support/iam-lint/resolver.ts`,
        );
    }
  }

  private output(stack: string, outputName: string, what: string): unknown {
    const template = this.templates[stack];
    const outputs = (template?.Outputs ?? {}) as Record<string, { Value: unknown }>;
    if (!outputs[outputName]) throw new Error(`${what}: stack ${stack} has no output ${outputName}`);
    return this.resolve(outputs[outputName].Value, stack);
  }

  private ref(name: string, stack: string): unknown {
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return LINT_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${LINT_ACCOUNT}:stack/${stack}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
    }
    const template = this.templates[stack];
    const params = (template.Parameters ?? {}) as Record<string, { Default?: unknown }>;
    if (params[name]) return params[name].Default ?? `param-${name.toLowerCase()}`;
    const { shape, context } = this.resource(name, stack, 'Ref');
    return shape.ref(context);
  }

  private getAtt(logicalId: string, attr: string, stack: string): unknown {
    const { shape, context, type } = this.resource(logicalId, stack, `Fn::GetAtt ${attr}`);
    const fn = shape.attrs[attr];
    if (!fn) {
      throw new Error(
        `iam-lint has no plausible value for Fn::GetAtt ${type}.${attr} (${stack}/${logicalId}); add it to SHAPES in test/support/iam-lint/resource-shapes.ts`,
      );
    }
    return fn(context);
  }

  private resource(logicalId: string, stack: string, what: string) {
    const resources = (this.templates[stack].Resources ?? {}) as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    const resource = resources[logicalId];
    if (!resource) throw new Error(`${what}: no resource ${logicalId} in ${stack}`);
    const shape = SHAPES[resource.Type];
    if (!shape) {
      throw new Error(
        `iam-lint has no plausible value for ${what} of ${resource.Type} (${stack}/${logicalId}); add the type to SHAPES in test/support/iam-lint/resource-shapes.ts`,
      );
    }
    const props = resource.Properties ?? {};
    const declared = shape.nameProperty ? props[shape.nameProperty] : undefined;
    const name =
      declared !== undefined
        ? String(this.resolve(declared, stack))
        : `${stack}-${logicalId}`
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, '-')
            .slice(0, 63);
    return {
      type: resource.Type,
      shape,
      context: { region: this.region, account: LINT_ACCOUNT, stackName: stack, logicalId, props, name },
    };
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

import type { Json } from '../pipeline/expressions';
import type { Scalar } from '../pipeline/resolve';

/**
 * Reads a step property path (`FinalMetricDataList['eval_loss'].Value`, `ModelArtifacts.S3ModelArtifacts`,
 * `TrainingJobName`) out of a step's result, the way SageMaker Pipelines does: the properties of a Training step
 * are its DescribeTrainingJob response, and a list of metrics is indexed by metric name.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-propertyfile.html
 */

/** Lists SageMaker indexes by a member's name instead of a position, and the member holding that name. */
const KEYED_LISTS: Readonly<Record<string, string>> = { FinalMetricDataList: 'MetricName' };

const TOKEN = /^(?:\.?([A-Za-z0-9_]+)|\['([^']*)'\]|\[(\d+)\])/;

/** Splits `A.B['k'].C[0]` into `A`, `B`, `'k'`, `C`, `0`. */
export function propertyPathTokens(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  let rest = path;
  while (rest.length > 0) {
    const m = TOKEN.exec(rest);
    if (!m) throw new Error(`step property path "${path}": cannot read "${rest}"`);
    out.push(m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2]));
    rest = rest.slice(m[0].length);
  }
  return out;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

/** The scalar at `path` in `properties`; throws naming the step and the missing part when it is absent. */
export function readStepProperty(stepName: string, properties: Json, path: string): Scalar {
  let current: Json | undefined = properties;
  let listName = '';
  for (const token of propertyPathTokens(path)) {
    if (Array.isArray(current)) {
      const list: Json[] = current;
      const nameKey = KEYED_LISTS[listName];
      current =
        typeof token === 'number'
          ? list[token]
          : nameKey
            ? list.find((e) => isObject(e) && e[nameKey] === token)
            : undefined;
    } else if (isObject(current) && typeof token === 'string') {
      listName = token;
      current = current[token];
    } else {
      current = undefined;
    }
    if (current === undefined || current === null) {
      throw new Error(`Steps.${stepName}.${path}: the step's result has no ${JSON.stringify(token)}`);
    }
  }
  if (typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean') return current;
  throw new Error(`Steps.${stepName}.${path}: is not a scalar (${JSON.stringify(current)})`);
}

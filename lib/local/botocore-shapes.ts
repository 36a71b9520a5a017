import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Validates API request objects against botocore's service model: the machine-readable API description
 * every AWS SDK is generated from (used by the local training-job runner and by the tests). Use it for anything we send to AWS but cannot call here: pipeline
 * step arguments (sagemaker CreateTrainingJob), Step Functions task parameters (sagemaker CreateModel,
 * CreateEndpointConfig, ...), SDK-integration parameters.
 *
 * Two layers of checks run on each request (see botocore_validate.py):
 * - `paramValidator`: botocore's own ParamValidator (required/unknown members, types, minimums), exactly
 *   what boto3 rejects client-side;
 * - `constraints`: maximums, enums and patterns from the same model, which the service enforces.
 *
 * Requests are batched into one Python process per call, so validate many requests at once.
 */

const SCRIPT = path.join(__dirname, 'botocore_validate.py');
/** The project's venv python (`.ci/bootstrap.sh` creates it), which has botocore. */
const PYTHON = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python');

/** One API request to check. */
export interface BotocoreRequest {
  /** botocore service name, as boto3 spells it: `sagemaker`, `stepfunctions`, `sns`, `events`. */
  readonly service: string;
  /** Operation: API name (`CreateTrainingJob`) or Step Functions style (`createTrainingJob`). */
  readonly operation: string;
  /** The request body, with every placeholder already resolved to a concrete value. */
  readonly params: unknown;
  /** Shown in failure messages, e.g. the pipeline and step name. */
  readonly label?: string;
}

/** The outcome for one request. */
export interface BotocoreValidation {
  readonly label: string;
  readonly service: string;
  readonly operation: string;
  /** Errors from botocore's ParamValidator, one line each. */
  readonly paramValidator: readonly string[];
  /** max/enum/pattern violations, one line each. */
  readonly constraints: readonly string[];
  /** Java patterns this Python could not compile, so they were not checked. */
  readonly skippedPatterns: readonly string[];
  /** Unknown service or operation. */
  readonly setupError: string | null;
}

/** All errors of a result, flattened; empty means the request is valid. */
export function errorsOf(result: BotocoreValidation): string[] {
  return [
    ...(result.setupError ? [result.setupError] : []),
    ...result.paramValidator.map((e) => `[ParamValidator] ${e}`),
    ...result.constraints.map((e) => `[model constraint] ${e}`),
  ];
}

interface ScriptOutput {
  readonly botocoreVersion?: string;
  readonly results?: BotocoreValidation[];
  readonly error?: string;
}

/** The botocore version the last call validated against (for test output). */
export let botocoreVersion: string | undefined;

/** Validates many requests in one Python process; results come back in the same order. */
export function validateRequests(requests: readonly BotocoreRequest[]): BotocoreValidation[] {
  if (requests.length === 0) return [];
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found; run "bash .ci/bootstrap.sh" to create the venv`);
  const proc = spawnSync(PYTHON, [SCRIPT], {
    encoding: 'utf8',
    input: JSON.stringify({ requests }),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (proc.error) throw proc.error;
  let parsed: ScriptOutput;
  try {
    parsed = JSON.parse(proc.stdout) as ScriptOutput;
  } catch {
    throw new Error(`botocore_validate.py failed (exit ${proc.status}):\n${proc.stderr}\n${proc.stdout}`);
  }
  if (parsed.error || !parsed.results) throw new Error(`botocore_validate.py: ${parsed.error ?? 'no results'}`);
  botocoreVersion = parsed.botocoreVersion;
  return parsed.results;
}

/** Validates one request. */
export function validateRequest(service: string, operation: string, params: unknown): BotocoreValidation {
  return validateRequests([{ service, operation, params }])[0];
}

/**
 * Renders every invalid request as a readable block (label, then one error per line); empty string when
 * all are valid. Use as `expect(formatInvalid(results)).toBe('')` so Jest prints the errors on failure.
 */
export function formatInvalid(results: readonly BotocoreValidation[]): string {
  return results
    .map((r) => ({ label: r.label, errors: errorsOf(r) }))
    .filter((r) => r.errors.length > 0)
    .map((r) => `${r.label}:\n${r.errors.map((e) => `  - ${e}`).join('\n')}`)
    .join('\n');
}

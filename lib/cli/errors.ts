/**
 * Errors the operator sees. Every message is one sentence that says what went wrong and what to do about
 * it; the CLI prints `error: <message>` and exits non-zero, never a stack trace.
 */

/** A problem the user can act on; `exitCode` is what the process exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What the translator needs to know about the call that failed. */
export interface AwsCallContext {
  /** IAM action of the call, e.g. `sagemaker:StartPipelineExecution`. */
  readonly action: string;
  /** The resource the call was about, for the message (a pipeline name, an S3 URI, an endpoint). */
  readonly resource?: string;
  /**
   * Turns a "does not exist" answer into the sentence to show, e.g. listing the known recipes. Called
   * only for not-found errors; when absent a generic sentence is used.
   */
  readonly onNotFound?: () => Promise<string> | string;
  /** Endpoint the client talks to when it is not AWS (for connection errors). */
  readonly endpointUrl?: string;
}

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
]);
const NOT_FOUND = new Set([
  'ResourceNotFound',
  'ResourceNotFoundException',
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'StateMachineDoesNotExist',
  'ExecutionDoesNotExist',
]);
/** Messages SageMaker uses for unknown names inside a ValidationException. */
const NOT_FOUND_MESSAGE = /does not exist|could not find|not found|cannot find/i;

function errorName(e: AwsLikeError): string {
  return e.name ?? e.Code ?? e.code ?? 'Error';
}

/** True when `e` is an AWS error answering "this thing does not exist". */
export function isNotFound(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as AwsLikeError;
  const name = errorName(err);
  if (NOT_FOUND.has(name) || err.$metadata?.httpStatusCode === 404) return true;
  return (name === 'ValidationException' || name === 'ValidationError') && NOT_FOUND_MESSAGE.test(err.message ?? '');
}

/**
 * True when the endpoint does not implement the operation at all (an emulator, or an older partition):
 * the SDK then sees a 5xx/501 page it cannot parse, or an UnknownOperation error.
 */
export function isNotImplemented(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as AwsLikeError;
  const name = errorName(err);
  if (/^(NotImplemented|NotImplementedException|UnknownOperationException|InvalidAction)$/.test(name)) return true;
  const status = err.$metadata?.httpStatusCode;
  return (
    (status === 500 || status === 501) &&
    /not (been )?implemented|Deserialization error|is not valid JSON/i.test(err.message ?? '')
  );
}

function isConnectionError(e: AwsLikeError): boolean {
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|socket hang up/i.test(
    `${e.code ?? ''} ${e.name ?? ''} ${e.message ?? ''}`,
  );
}

/**
 * Turns an error from an AWS SDK call into a {@link CliError} whose message says what failed and how to
 * fix it: the missing permission, the unknown resource (with what exists), throttling that outlasted
 * the SDK's adaptive retries, missing credentials or region, an unreachable endpoint.
 */
export async function translateAwsError(e: unknown, ctx: AwsCallContext): Promise<CliError> {
  if (e instanceof CliError) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as AwsLikeError;
  const name = errorName(err);
  const message = (err.message ?? '').trim();
  const what = ctx.resource ? `${ctx.action} on ${ctx.resource}` : ctx.action;

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new CliError(
      `no AWS credentials were found for ${ctx.action}; run "aws configure" or "aws sso login", or set AWS_PROFILE ` +
        '(or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and try again',
    );
  }
  if (/Region is missing/i.test(message)) {
    return new CliError(
      'no AWS region is set; pass --region, set AWS_REGION, or set "region" in the cdk.json "gptOss" config',
    );
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException') {
    return new CliError(`your AWS session expired during ${what}; refresh it (e.g. "aws sso login") and retry`);
  }
  if (ACCESS_DENIED.has(name) || err.$metadata?.httpStatusCode === 403) {
    const kms = /kms/i.test(message)
      ? ' and kms:GenerateDataKey/kms:Decrypt on the platform KMS key (the buckets are KMS-encrypted)'
      : '';
    const detail = message ? ` (AWS said: ${message})` : '';
    return new CliError(
      `access denied: your AWS identity may not call ${what}${detail}; ask a platform admin to grant ` +
        `${ctx.action}${kms} to your role (the Studio user role created by the platform has it), or use a profile that has it`,
    );
  }
  if (THROTTLING.has(name)) {
    const attempts = err.$metadata?.attempts;
    return new CliError(
      `AWS kept throttling ${what}${attempts ? ` after ${attempts} attempts with adaptive back-off` : ''}; ` +
        'wait a minute and run the command again, or raise --max-attempts',
    );
  }
  if (isNotFound(err)) {
    if (ctx.onNotFound) return new CliError(await ctx.onNotFound());
    return new CliError(
      `${ctx.resource ?? 'the resource'} does not exist (${ctx.action}: ${message || name}); check the name and the region`,
    );
  }
  if (isConnectionError(err)) {
    const target = ctx.endpointUrl ? ` at ${ctx.endpointUrl}` : '';
    return new CliError(
      `could not reach the AWS endpoint${target} for ${ctx.action} (${message || name}); check --endpoint-url, ` +
        'AWS_ENDPOINT_URL and your network',
    );
  }
  return new CliError(`${what} failed: ${name}${message ? `: ${message}` : ''}`);
}

/** Runs one AWS call and translates any error it throws. */
export async function awsCall<T>(ctx: AwsCallContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw await translateAwsError(e, ctx);
  }
}

/**
 * CloudFormation custom resource handler: on Delete, removes every Studio app and space of the domain
 * (named by the `DomainId` property) so that the user profiles and the domain can be deleted after it.
 * Create and Update do nothing. The handler answers CloudFormation itself (PUT to the presigned
 * ResponseURL), so no provider framework is needed.
 */
import * as https from 'node:https';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { sdkStudioApi } from './sdk-api';
import { deleteStudioContents, type StudioApi } from './teardown';

/** The fields of a CloudFormation custom resource request this handler reads. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly DomainId?: string };
}

/** The Lambda context fields this handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/** Sends the response to CloudFormation's presigned S3 URL (empty content type, as the URL is signed). */
export function putResponse(url: string, body: CustomResourceResponse): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(payload) } },
      (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode && response.statusCode < 300
            ? resolve()
            : reject(new Error(`CloudFormation response rejected with HTTP ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Lambda sends stdout/stderr to the function's log group. */
const log = (message: string): void => void process.stdout.write(`${message}\n`);
const logError = (message: string): void => void process.stderr.write(`${message}\n`);

/** Time kept back from the Lambda timeout to report a failure before the function is killed. */
const SAFETY_MARGIN_MS = 60_000;

export interface HandlerDeps {
  readonly api: StudioApi;
  readonly respond: (url: string, body: CustomResourceResponse) => Promise<void>;
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The handler with its dependencies injected (tests pass fakes; {@link handler} passes the real ones). */
export async function handleEvent(
  event: CustomResourceEvent,
  context: LambdaContext,
  deps: HandlerDeps,
): Promise<void> {
  const domainId = event.ResourceProperties.DomainId ?? '';
  const physicalId = `studio-teardown-${domainId || 'unknown'}`;
  const base = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    // a Delete must echo the id CloudFormation knows; Create/Update name the domain it watches.
    PhysicalResourceId: event.RequestType === 'Delete' ? (event.PhysicalResourceId ?? physicalId) : physicalId,
  };
  try {
    let reason = `${event.RequestType}: nothing to do`;
    if (event.RequestType === 'Delete' && domainId) {
      const now = deps.now ?? Date.now;
      const result = await deleteStudioContents(deps.api, domainId, {
        deadline: now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
        pollIntervalMs: deps.pollIntervalMs,
        sleep: deps.sleep,
        now,
        log,
      });
      reason = `deleted ${result.deletedApps.length} app(s) and ${result.deletedSpaces.length} space(s)`;
    }
    log(reason);
    await deps.respond(event.ResponseURL, { ...base, Status: 'SUCCESS', Reason: reason });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    logError(reason);
    await deps.respond(event.ResponseURL, { ...base, Status: 'FAILED', Reason: reason.slice(0, 3000) });
  }
}

/** Lambda entry point. */
export async function handler(event: CustomResourceEvent, context: LambdaContext): Promise<void> {
  await handleEvent(event, context, { api: sdkStudioApi(new SageMakerClient({})), respond: putResponse });
}

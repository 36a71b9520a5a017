/**
 * Deletes every app and then every space of a SageMaker Studio domain, waiting for each phase to finish,
 * so that CloudFormation can delete the user profiles and the domain afterwards (SageMaker refuses to
 * delete a user profile or domain that still has apps or spaces). Pure logic over a small API interface,
 * so it is tested without AWS; `sdk-api.ts` adapts the AWS SDK to it.
 */

/** An app as ListApps returns it. */
export interface StudioApp {
  readonly appType: string;
  readonly appName: string;
  readonly status: string;
  readonly userProfileName?: string;
  readonly spaceName?: string;
}

/** A space as ListSpaces returns it. */
export interface StudioSpace {
  readonly spaceName: string;
  readonly status: string;
}

/** The SageMaker calls the teardown needs (each list call returns one page). */
export interface StudioApi {
  listApps(domainId: string, nextToken?: string): Promise<{ items: StudioApp[]; nextToken?: string }>;
  deleteApp(domainId: string, app: StudioApp): Promise<void>;
  listSpaces(domainId: string, nextToken?: string): Promise<{ items: StudioSpace[]; nextToken?: string }>;
  deleteSpace(domainId: string, spaceName: string): Promise<void>;
}

export interface TeardownOptions {
  /** Epoch milliseconds after which the teardown gives up with an error naming what is left. */
  readonly deadline: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default no logging */
  readonly log?: (message: string) => void;
}

export interface TeardownResult {
  readonly deletedApps: string[];
  readonly deletedSpaces: string[];
}

/** App states in which the app still exists and blocks deletion of its profile or space. */
const APP_GONE = new Set(['Deleted']);
const APP_BEING_DELETED = new Set(['Deleting']);

/** Error names meaning "nothing there to delete". */
const NOT_FOUND = new Set(['ResourceNotFound', 'ResourceNotFoundException']);

export function appLabel(app: StudioApp): string {
  const owner = app.spaceName ? `space ${app.spaceName}` : `user ${app.userProfileName ?? '?'}`;
  return `${app.appType}/${app.appName} (${owner})`;
}

async function listAll<T>(list: (token?: string) => Promise<{ items: T[]; nextToken?: string }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await list(token);
    items.push(...page.items);
    token = page.nextToken;
  } while (token);
  return items;
}

function errorName(e: unknown): string {
  return typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Deletes all apps of the domain, waits until they are `Deleted`, then deletes all spaces and waits until
 * none is listed. A delete call that fails (e.g. an app still `Pending`) is retried on the next poll.
 * Throws when the deadline passes or a space reports `Delete_Failed`.
 */
export async function deleteStudioContents(
  api: StudioApi,
  domainId: string,
  options: TeardownOptions,
): Promise<TeardownResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.log ?? (() => undefined);
  const poll = options.pollIntervalMs ?? 15_000;
  const deletedApps = new Set<string>();
  const deletedSpaces = new Set<string>();
  const lastErrors = new Map<string, string>();

  // ------------------------ apps ------------------------
  for (;;) {
    let apps: StudioApp[];
    try {
      apps = await listAll((token) => api.listApps(domainId, token));
    } catch (e) {
      if (NOT_FOUND.has(errorName(e))) return { deletedApps: [], deletedSpaces: [] };
      throw e;
    }
    const remaining = apps.filter((a) => !APP_GONE.has(a.status));
    if (remaining.length === 0) break;
    for (const app of remaining) {
      const label = appLabel(app);
      if (APP_BEING_DELETED.has(app.status)) continue;
      try {
        await api.deleteApp(domainId, app);
        deletedApps.add(label);
        lastErrors.delete(label);
        log(`deleting app ${label} (was ${app.status})`);
      } catch (e) {
        if (NOT_FOUND.has(errorName(e))) continue;
        lastErrors.set(label, errorMessage(e));
        log(`could not delete app ${label} yet: ${errorMessage(e)}`);
      }
    }
    if (now() + poll > options.deadline) {
      const left = remaining.map((a) => {
        const why = lastErrors.get(appLabel(a));
        return `${appLabel(a)} is ${a.status}${why ? ` (${why})` : ''}`;
      });
      throw new Error(`domain ${domainId}: apps not deleted in time: ${left.join('; ')}`);
    }
    await sleep(poll);
  }

  // ------------------------ spaces ------------------------
  for (;;) {
    const spaces = await listAll((token) => api.listSpaces(domainId, token));
    if (spaces.length === 0) break;
    const failed = spaces.filter((s) => s.status === 'Delete_Failed' && deletedSpaces.has(s.spaceName));
    if (failed.length > 0) {
      throw new Error(
        `domain ${domainId}: SageMaker could not delete space(s) ${failed.map((s) => s.spaceName).join(', ')}; see the space in the console, fix and retry the stack deletion`,
      );
    }
    for (const space of spaces) {
      if (space.status === 'Deleting') continue;
      try {
        await api.deleteSpace(domainId, space.spaceName);
        deletedSpaces.add(space.spaceName);
        lastErrors.delete(space.spaceName);
        log(`deleting space ${space.spaceName} (was ${space.status})`);
      } catch (e) {
        if (NOT_FOUND.has(errorName(e))) continue;
        lastErrors.set(space.spaceName, errorMessage(e));
        log(`could not delete space ${space.spaceName} yet: ${errorMessage(e)}`);
      }
    }
    if (now() + poll > options.deadline) {
      const left = spaces.map((s) => {
        const why = lastErrors.get(s.spaceName);
        return `${s.spaceName} is ${s.status}${why ? ` (${why})` : ''}`;
      });
      throw new Error(`domain ${domainId}: spaces not deleted in time: ${left.join('; ')}`);
    }
    await sleep(poll);
  }

  return { deletedApps: [...deletedApps], deletedSpaces: [...deletedSpaces] };
}

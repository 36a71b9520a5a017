import {
  type CustomResourceEvent,
  type CustomResourceResponse,
  handleEvent,
} from '../../lib/constructs/studio/teardown-handler/index';
import {
  deleteStudioContents,
  type StudioApi,
  type StudioApp,
  type StudioSpace,
} from '../../lib/constructs/studio/teardown-handler/teardown';

/**
 * An in-memory SageMaker with SageMaker's ordering rules: a space cannot be deleted while it has an app that
 * is not Deleted, an app in Pending cannot be deleted, and deletions take `deleteTicks` polls to finish.
 * (moto implements neither ListApps nor ListSpaces, so the teardown is tested against this fake.)
 */
class FakeStudio implements StudioApi {
  public readonly calls: string[] = [];
  private tick = 0;
  private readonly deletingSince = new Map<string, number>();
  constructor(
    public apps: (StudioApp & { pendingUntil?: number })[],
    public spaces: StudioSpace[],
    private readonly deleteTicks = 2,
    private readonly pageSize = 1,
  ) {}

  advance(): void {
    this.tick += 1;
    this.apps = this.apps.map((a) => {
      const since = this.deletingSince.get(`app:${a.appName}`);
      if (a.status === 'Deleting' && since !== undefined && this.tick - since >= this.deleteTicks)
        return { ...a, status: 'Deleted' };
      if (a.status === 'Pending' && a.pendingUntil !== undefined && this.tick >= a.pendingUntil)
        return { ...a, status: 'InService' };
      return a;
    });
    this.spaces = this.spaces.filter((s) => {
      const since = this.deletingSince.get(`space:${s.spaceName}`);
      return !(s.status === 'Deleting' && since !== undefined && this.tick - since >= this.deleteTicks);
    });
  }

  private page<T>(items: T[], token?: string): { items: T[]; nextToken?: string } {
    const start = token ? Number(token) : 0;
    const end = start + this.pageSize;
    return { items: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
  }

  async listApps(domainId: string, nextToken?: string) {
    this.calls.push(`ListApps ${domainId}`);
    return this.page(this.apps, nextToken);
  }

  async deleteApp(_domainId: string, app: StudioApp) {
    this.calls.push(`DeleteApp ${app.appName}`);
    const current = this.apps.find((a) => a.appName === app.appName);
    if (!current || current.status === 'Deleted')
      throw Object.assign(new Error('not found'), { name: 'ResourceNotFound' });
    if (current.status === 'Pending') throw Object.assign(new Error('app is Pending'), { name: 'ResourceInUse' });
    this.apps = this.apps.map((a) => (a.appName === app.appName ? { ...a, status: 'Deleting' } : a));
    this.deletingSince.set(`app:${app.appName}`, this.tick);
  }

  async listSpaces(domainId: string, nextToken?: string) {
    this.calls.push(`ListSpaces ${domainId}`);
    return this.page(this.spaces, nextToken);
  }

  async deleteSpace(_domainId: string, spaceName: string) {
    this.calls.push(`DeleteSpace ${spaceName}`);
    if (this.apps.some((a) => a.spaceName === spaceName && a.status !== 'Deleted')) {
      throw Object.assign(new Error(`space ${spaceName} has apps`), { name: 'ResourceInUse' });
    }
    this.spaces = this.spaces.map((s) => (s.spaceName === spaceName ? { ...s, status: 'Deleting' } : s));
    this.deletingSince.set(`space:${spaceName}`, this.tick);
  }
}

function clock(fake: FakeStudio, start = 0) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      fake.advance();
    },
  };
}

describe('deleteStudioContents', () => {
  test('deletes every app (all pages), waits for them, then deletes and waits for every space', async () => {
    // GIVEN two running apps in spaces, one failed app, one deleted app and two spaces
    const fake = new FakeStudio(
      [
        { appType: 'JupyterLab', appName: 'default', status: 'InService', spaceName: 'alice-space' },
        { appType: 'CodeEditor', appName: 'default-ce', status: 'InService', spaceName: 'bob-space' },
        { appType: 'JupyterServer', appName: 'classic', status: 'Failed', userProfileName: 'bob' },
        { appType: 'JupyterLab', appName: 'old', status: 'Deleted', spaceName: 'alice-space' },
      ],
      [
        { spaceName: 'alice-space', status: 'InService' },
        { spaceName: 'bob-space', status: 'InService' },
      ],
    );
    const { now, sleep } = clock(fake);
    // WHEN the teardown runs
    const result = await deleteStudioContents(fake, 'd-abc', { deadline: 1_000_000, pollIntervalMs: 1000, now, sleep });
    // THEN every live app was deleted before any space, and nothing is left
    expect(result.deletedApps.sort()).toEqual([
      'CodeEditor/default-ce (space bob-space)',
      'JupyterLab/default (space alice-space)',
      'JupyterServer/classic (user bob)',
    ]);
    expect(result.deletedSpaces.sort()).toEqual(['alice-space', 'bob-space']);
    const firstSpaceDelete = fake.calls.findIndex((c) => c.startsWith('DeleteSpace'));
    const lastAppDelete = fake.calls.map((c) => c.startsWith('DeleteApp')).lastIndexOf(true);
    expect(lastAppDelete).toBeLessThan(firstSpaceDelete);
    expect(fake.calls).not.toContain('DeleteApp old');
    expect(fake.spaces).toEqual([]);
    expect(fake.apps.every((a) => a.status === 'Deleted')).toBe(true);
  });

  test('retries an app that is still Pending', async () => {
    // GIVEN an app that becomes InService after 3 polls
    const fake = new FakeStudio(
      [{ appType: 'JupyterLab', appName: 'starting', status: 'Pending', spaceName: 's', pendingUntil: 3 }],
      [{ spaceName: 's', status: 'InService' }],
    );
    const { now, sleep } = clock(fake);
    // WHEN
    const result = await deleteStudioContents(fake, 'd-abc', { deadline: 1_000_000, pollIntervalMs: 1000, now, sleep });
    // THEN it was deleted once it could be
    expect(fake.calls.filter((c) => c === 'DeleteApp starting').length).toBeGreaterThan(1);
    expect(result.deletedApps).toEqual(['JupyterLab/starting (space s)']);
    expect(fake.spaces).toEqual([]);
  });

  test('fails naming the app that did not go before the deadline', async () => {
    // GIVEN an app that never leaves Pending
    const fake = new FakeStudio([{ appType: 'JupyterLab', appName: 'stuck', status: 'Pending', spaceName: 's' }], []);
    const { now, sleep } = clock(fake);
    // WHEN / THEN
    await expect(
      deleteStudioContents(fake, 'd-abc', { deadline: 5000, pollIntervalMs: 1000, now, sleep }),
    ).rejects.toThrow(
      /domain d-abc: apps not deleted in time: JupyterLab\/stuck \(space s\) is Pending \(app is Pending\)/,
    );
  });

  test('fails when SageMaker reports Delete_Failed for a space', async () => {
    // GIVEN a space whose deletion fails
    const fake = new FakeStudio([], [{ spaceName: 'broken', status: 'InService' }]);
    fake.deleteSpace = async (_d, name) => {
      fake.calls.push(`DeleteSpace ${name}`);
      fake.spaces = [{ spaceName: name, status: 'Delete_Failed' }];
    };
    const { now, sleep } = clock(fake);
    // WHEN / THEN
    await expect(
      deleteStudioContents(fake, 'd-abc', { deadline: 1_000_000, pollIntervalMs: 1000, now, sleep }),
    ).rejects.toThrow(/could not delete space\(s\) broken/);
  });

  test('treats a domain that no longer exists as nothing to delete', async () => {
    // GIVEN ListApps answers ResourceNotFound
    const fake = new FakeStudio([], []);
    fake.listApps = async () => {
      throw Object.assign(new Error('no domain'), { name: 'ResourceNotFound' });
    };
    // WHEN / THEN
    await expect(deleteStudioContents(fake, 'd-gone', { deadline: 1000 })).resolves.toEqual({
      deletedApps: [],
      deletedSpaces: [],
    });
  });
});

describe('custom resource handler', () => {
  const base: Omit<CustomResourceEvent, 'RequestType'> = {
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/gptoss-dev-studio/1',
    RequestId: 'req-1',
    LogicalResourceId: 'StudioTeardown',
    ResourceProperties: { DomainId: 'd-abc' },
  };
  const context = { getRemainingTimeInMillis: () => 900_000 };

  test('Create answers SUCCESS without calling SageMaker', async () => {
    // GIVEN
    const fake = new FakeStudio([{ appType: 'JupyterLab', appName: 'a', status: 'InService', spaceName: 's' }], []);
    const responses: CustomResourceResponse[] = [];
    // WHEN
    await handleEvent({ ...base, RequestType: 'Create' }, context, {
      api: fake,
      respond: async (_url, body) => void responses.push(body),
    });
    // THEN
    expect(fake.calls).toEqual([]);
    expect(responses).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'studio-teardown-d-abc', RequestId: 'req-1' }),
    ]);
  });

  test('Delete deletes the apps and spaces, then answers SUCCESS with the same physical id', async () => {
    // GIVEN
    const fake = new FakeStudio(
      [{ appType: 'JupyterLab', appName: 'a', status: 'InService', spaceName: 's' }],
      [{ spaceName: 's', status: 'InService' }],
    );
    const { now, sleep } = clock(fake);
    const responses: CustomResourceResponse[] = [];
    // WHEN
    await handleEvent({ ...base, RequestType: 'Delete', PhysicalResourceId: 'studio-teardown-d-abc' }, context, {
      api: fake,
      respond: async (_url, body) => void responses.push(body),
      pollIntervalMs: 1000,
      now,
      sleep,
    });
    // THEN
    expect(fake.spaces).toEqual([]);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'studio-teardown-d-abc',
        Reason: 'deleted 1 app(s) and 1 space(s)',
      }),
    ]);
  });

  test('fails the Delete with the reason when the teardown cannot finish', async () => {
    // GIVEN an app stuck in Pending and only a little Lambda time left
    const fake = new FakeStudio([{ appType: 'JupyterLab', appName: 'stuck', status: 'Pending', spaceName: 's' }], []);
    const { now, sleep } = clock(fake);
    const responses: CustomResourceResponse[] = [];
    // WHEN
    await handleEvent(
      { ...base, RequestType: 'Delete', PhysicalResourceId: 'studio-teardown-d-abc' },
      { getRemainingTimeInMillis: () => 65_000 },
      { api: fake, respond: async (_url, body) => void responses.push(body), pollIntervalMs: 1000, now, sleep },
    );
    // THEN CloudFormation is told why
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason: expect.stringMatching(/JupyterLab\/stuck \(space s\) is Pending/),
      }),
    ]);
  });
});

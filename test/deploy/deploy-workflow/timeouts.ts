import { expectFailedWith } from '../../support/sfn-local';
import { type DeployWorkflow, ENDPOINT } from './harness';

/**
 * DEPLOY scenarios where the endpoint never settles: the bounded waits give up, and what they leave or restore.
 * The emulated UpdateEndpoint and the fault injection are described in deploy-workflow.test.ts's header.
 */
export function timeoutTests(wf: DeployWorkflow): void {
  test('fails after the bounded wait when the endpoint never leaves Creating, and cleans nothing up', async () => {
    // GIVEN an approved package
    const { inbox, v1 } = await wf.approvedVersion1();

    // WHEN the endpoint stays Creating (fault injection)
    const result = await wf.runDeploy(v1, 1, {
      'sagemaker:describeEndpoint': async (_params, next) => ({
        ...((await next()) as object),
        EndpointStatus: 'Creating',
      }),
    });

    // THEN it gives up after 120 polls and leaves the endpoint alone
    expectFailedWith(result, 'Timeout');
    expect(result.calls.filter((c) => c.state === 'Wait for endpoint: describe')).toHaveLength(120);
    expect(result.calls.map((c) => c.action).filter((a) => a.startsWith('delete'))).toEqual([]);
    expect((await wf.endpointState()).config).toBe(wf.configFor(1));
    const [notice] = await inbox.read();
    expect(notice.message).toContain('still Creating after 120 polls');
    expect(notice.message).toContain('nothing was cleaned up');
  });

  test('an update that times out gets its suspended autoscaling back and deletes nothing', async () => {
    // GIVEN version 1 serving with autoscaling, and version 2 approved
    const { inbox } = await wf.servingVersion1();
    expect(await wf.scalableTargets()).toHaveLength(1);
    const v2 = await wf.createPackage();

    // WHEN SageMaker accepts the update (emulated, see header) but the endpoint stays Updating (fault injection)
    let polls = 0;
    const result = await wf.runDeploy(v2, 2, {
      'sagemaker:updateEndpoint': () => ({
        EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}`,
      }),
      'sagemaker:describeEndpoint': async (_params, next) => {
        const real = (await next()) as Record<string, unknown>;
        polls += 1;
        // the first describe is the current-endpoint check before the update.
        return polls === 1 ? real : { ...real, EndpointStatus: 'Updating' };
      },
    });

    // THEN the execution fails with Timeout, deletes nothing, and the scalable target is registered again
    expectFailedWith(result, 'Timeout');
    expect(result.calls.map((c) => c.action).filter((a) => a.startsWith('delete'))).toEqual([]);
    expect(result.calls.map((c) => c.state)).toContain('Restore autoscaling after timeout: target');
    expect(await wf.scalableTargets()).toHaveLength(1);
    const [notice] = (await inbox?.read()) ?? [];
    expect(notice.message).toContain('Timeout');
  });
}

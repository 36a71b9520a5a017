import { DescribeEndpointCommand, ListModelsCommand } from '@aws-sdk/client-sagemaker';
import { expectFailedWith } from '../../support/sfn-local';
import { queueEndpointAnswers, vllmChatCompletion } from '../support';
import { type DeployWorkflow, ENDPOINT } from './harness';

/**
 * DEPLOY scenarios where the new version fails (the endpoint does not start, SageMaker rolls the update back,
 * or the smoke test gets no content): what is rolled back or deleted, and what the notice says. The emulated
 * UpdateEndpoint and the fault injection are described in deploy-workflow.test.ts's header.
 */
export function failureAndRollbackTests(wf: DeployWorkflow): void {
  test('fails on endpoint creation failure: the failed endpoint and its model and config are deleted, with a notice', async () => {
    // GIVEN no endpoint yet and an approved package
    const { inbox, v1 } = await wf.approvedVersion1();

    // WHEN the new endpoint fails to start (fault injection: moto endpoints never fail)
    const result = await wf.runDeploy(v1, 1, {
      'sagemaker:describeEndpoint': async (_params, next) => ({
        ...((await next()) as object),
        EndpointStatus: 'Failed',
        FailureReason: 'The primary container for production variant AllTraffic did not pass the ping health check.',
      }),
    });

    // THEN the execution fails and nothing is left behind
    expectFailedWith(result, 'EndpointFailed');
    expect(result.calls.filter((c) => c.action.startsWith('delete')).map((c) => c.action)).toEqual([
      'deleteEndpoint',
      'deleteAlarms',
      'deleteEndpointConfig',
      'deleteModel',
    ]);
    expect(((await wf.sm().send(new ListModelsCommand({}))).Models ?? []).length).toBe(0);
    expect(await wf.configNames()).toEqual([]);
    await expect(wf.sm().send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }))).rejects.toThrow(
      /Could not find/,
    );
    expect(await wf.scalableTargets()).toEqual([]);
    // AND the notice says what failed, where, and what state things are in
    const [notice] = (await inbox.read()) ?? [];
    expect(notice.subject).toBe('Deploy of sft-lora-20b v1 failed');
    expect(notice.message).toContain('failed at step "Wait for endpoint": EndpointFailed');
    expect(notice.message).toContain('did not pass the ping health check');
    expect(notice.message).toContain('The new endpoint was deleted again');
  });

  test('fails on an update SageMaker rolls back: the old endpoint keeps serving, the orphans are deleted', async () => {
    // GIVEN version 1 serving and version 2 approved
    const { inbox } = await wf.servingVersion1();
    const v2 = await wf.createPackage();

    // WHEN SageMaker accepts the update but rolls it back (alarm fired during baking): emulated, see header
    let polls = 0;
    const result = await wf.runDeploy(v2, 2, {
      'sagemaker:updateEndpoint': () => ({
        EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}`,
      }),
      'sagemaker:describeEndpoint': async (_params, next) => {
        const real = (await next()) as Record<string, unknown>;
        polls += 1;
        return polls === 1 || real.EndpointConfigName !== wf.configFor(1)
          ? real
          : polls === 2
            ? { ...real, EndpointStatus: 'Updating' }
            : { ...real, FailureReason: `Alarm ${ENDPOINT}-invocation-5xx went into ALARM; rolled back.` };
      },
    });

    // THEN the execution fails, version 1 keeps serving, version 2's model and config are gone
    expectFailedWith(result, 'UpdateRolledBack');
    expect(await wf.endpointState()).toEqual({ status: 'InService', config: wf.configFor(1) });
    expect(await wf.modelNames()).toEqual([wf.configFor(1)]);
    expect(await wf.configNames()).toEqual([wf.configFor(1)]);
    // AND autoscaling of the serving version is back
    expect(await wf.scalableTargets()).toHaveLength(1);
    const [notice] = (await inbox?.read()) ?? [];
    expect(notice.message).toContain('UpdateRolledBack');
    expect(notice.message).toContain(`keeps serving its previous configuration ${wf.configFor(1)}`);
  });

  test('fails when the smoke test gets no content after an update: the endpoint is rolled back to the old version', async () => {
    // GIVEN version 1 serving and version 2 approved, whose answers are empty
    const { inbox } = await wf.servingVersion1();
    const v2 = await wf.createPackage();
    await queueEndpointAnswers(wf.moto.endpoint, [vllmChatCompletion(null, null)]);

    // WHEN deployed
    const result = await wf.runDeploy(v2, 2, { 'sagemaker:updateEndpoint': wf.updateSucceeds });

    // THEN the machine rolled the endpoint back to version 1 and removed version 2
    expectFailedWith(result, 'SmokeTestFailed');
    const updates = result.calls.filter((c) => c.action === 'updateEndpoint').map((c) => c.params.EndpointConfigName);
    expect(updates).toEqual([wf.configFor(2), wf.configFor(1)]);
    expect(await wf.endpointState()).toEqual({ status: 'InService', config: wf.configFor(1) });
    expect(await wf.modelNames()).toEqual([wf.configFor(1)]);
    const [notice] = (await inbox?.read()) ?? [];
    expect(notice.message).toContain('failed at step "Smoke test": SmokeTestFailed');
    expect(notice.message).toContain(`rolled back to its previous configuration ${wf.configFor(1)}`);
  });

  test('fails when the smoke test of a new endpoint gets no content: the new endpoint is deleted', async () => {
    // GIVEN no endpoint yet and an approved package whose answers are empty strings
    const { inbox, v1 } = await wf.approvedVersion1();
    await queueEndpointAnswers(wf.moto.endpoint, [vllmChatCompletion('', '')]);

    // WHEN deployed
    const result = await wf.runDeploy(v1, 1);

    // THEN
    expectFailedWith(result, 'SmokeTestFailed');
    await expect(wf.sm().send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }))).rejects.toThrow(
      /Could not find/,
    );
    expect(await wf.modelNames()).toEqual([]);
    expect((await inbox.read()).map((n) => n.subject)).toEqual(['Deploy of sft-lora-20b v1 failed']);
  });
}

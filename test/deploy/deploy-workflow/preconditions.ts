import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { expectFailedWith, expectStatus, runLocally } from '../../support/sfn-local';
import { createGroup, packageApprovedEvent } from '../support';
import { type DeployWorkflow, ENDPOINT, GROUP } from './harness';

/**
 * DEPLOY scenarios stopped by a precondition before anything is deployed: a busy endpoint, a package no longer
 * approved, a group of no recipe, and recipe settings that cannot be read. The fault injection is described in
 * deploy-workflow.test.ts's header.
 */
export function preconditionTests(wf: DeployWorkflow): void {
  test('fails without touching a busy endpoint (another deployment in progress)', async () => {
    // GIVEN version 1 serving but currently Updating (fault injection), and version 2 approved
    const { inbox } = await wf.servingVersion1();
    const v2 = await wf.createPackage();

    // WHEN deployed
    const result = await wf.runDeploy(v2, 2, {
      'sagemaker:describeEndpoint': async (_params, next) => ({
        ...((await next()) as object),
        EndpointStatus: 'Updating',
      }),
    });

    // THEN nothing was created or changed, and the notice explains how to retry
    expectFailedWith(result, 'EndpointNotInService');
    expect(result.calls.map((c) => c.action)).not.toContain('createModel');
    expect(await wf.modelNames()).toEqual([wf.configFor(1)]);
    const [notice] = (await inbox?.read()) ?? [];
    expect(notice.message).toContain(`endpoint ${ENDPOINT} is Updating`);
  });

  test('a package rejected again before the execution runs is not deployed', async () => {
    // GIVEN an approved package that was rejected right after
    await createGroup(wf.moto.endpoint, GROUP);
    const arn = await wf.createPackage('Approved');
    await wf.sm().send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Rejected' }));

    // WHEN the (late) Approved event runs the machine
    const result = await wf.runDeploy(arn, 1);

    // THEN nothing is deployed
    expectStatus(result, 'SUCCEEDED');
    expect(result.path).toContain('No longer approved');
    expect(await wf.modelNames()).toEqual([]);
  });

  test('ignores a group with the deployment prefix that belongs to no recipe', async () => {
    // GIVEN / WHEN an event of an unknown group
    const result = await runLocally(
      wf.deployMachine,
      packageApprovedEvent(
        'arn:aws:sagemaker:us-east-1:123456789012:model-package/gptoss-dev-other/1',
        'gptoss-dev-other',
        1,
      ),
      { endpoint: wf.moto.endpoint },
    );
    // THEN it finds no settings object for the group and calls nothing else
    expectStatus(result, 'SUCCEEDED');
    expect(result.path).toContain('Not a recipe group');
    expect(result.calls.map((c) => `${c.service}:${c.action}`)).toEqual(['s3:listObjectsV2']);
  });

  test('fails with a notice when the recipe settings cannot be read, and touches nothing', async () => {
    // GIVEN an approved package but no artifacts bucket (moto reset without the settings upload)
    await wf.moto.reset();
    const { inbox, v1 } = await wf.approvedVersion1();

    // WHEN the Approved event runs the machine
    const result = await wf.runDeploy(v1, 1);

    // THEN it fails with S3's error before any SageMaker call, and the notice names the group and the step
    expectFailedWith(result, 'S3.NoSuchBucketException');
    expect(result.calls.map((c) => `${c.service}:${c.action}`)).toEqual(['s3:listObjectsV2', 'sns:publish']);
    const [notice] = await inbox.read();
    expect(notice.subject).toBe(`Deploy of ${GROUP} v1 failed`);
    expect(notice.message).toContain('failed at step "Find recipe settings": S3.NoSuchBucketException');
    expect(notice.message).toContain('Nothing was deployed; the endpoint, if any, is unchanged.');
  });
}

import { DescribeModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { setApproval } from '../../lib/cli/approval';
import { listModels } from '../../lib/cli/commands/models';
import { rejectCommand } from '../../lib/cli/commands/reject';
import { CapturedEnvironment, registerPackage, useMotoProject, expectCliError } from './support';

const cli = useMotoProject();

describe('models, approve, reject', () => {
  test('lists packages per recipe with metrics from the customer metadata', async () => {
    await registerPackage(cli.c, { eval_loss: '1.234', train_loss: '0.987', recipe_hash: 'abc123def456' });
    await registerPackage(cli.c, { eval_loss: '1.1' });
    const { ctx, env } = cli.context();
    const rows = await listModels(ctx, undefined);
    expect(rows.map((r) => [r.ref, r.approval, r.metrics])).toEqual([
      ['gptoss-test-demo-lora/2', 'PendingManualApproval', { eval_loss: 1.1 }],
      ['gptoss-test-demo-lora/1', 'PendingManualApproval', { eval_loss: 1.234, train_loss: 0.987 }],
    ]);
    expect(env.stdoutText.split('\n')[0]).toMatch(/^PACKAGE\s+APPROVAL\s+CREATED\s+METRICS$/);
    expect(env.stdoutText).toMatch(
      /gptoss-test-demo-lora\/1\s+PendingManualApproval\s+\S+ \S+Z\s+eval_loss=1\.234 train_loss=0\.987/,
    );
    ctx.close();
  });

  test('approves a package by recipe/version and reads the status back', async () => {
    // GIVEN a pending package
    const arn = await registerPackage(cli.c, { eval_loss: '1.2' });
    const { ctx, env } = cli.context();
    // WHEN it is approved with a description
    const result = await setApproval(ctx, 'demo-lora/1', 'Approved', 'eval loss below 1.3; spot-checked French');
    // THEN SageMaker holds the new status and the description
    const pkg = await cli.c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ModelApprovalStatus).toBe('Approved');
    // (moto's STS answers GetCallerIdentity with its default user)
    expect(pkg.ApprovalDescription).toBe(
      'Approved by arn:aws:sts::123456789012:user/moto: eval loss below 1.3; spot-checked French',
    );
    expect(result).toMatchObject({ previous: 'PendingManualApproval', status: 'Approved' });
    expect(env.stdoutText).toContain('gptoss-test-demo-lora/1: PendingManualApproval -> Approved');
    ctx.close();
  });

  test('keeps the earlier notes: a rejection after an approval appends, naming who decided each time', async () => {
    // GIVEN an approved package with a note
    const arn = await registerPackage(cli.c, { eval_loss: '1.2' });
    const { ctx } = cli.context();
    await setApproval(ctx, 'demo-lora/1', 'Approved', 'looked fine');
    // WHEN it is rejected later
    await setApproval(ctx, 'demo-lora/1', 'Rejected', 'answers in the wrong language');
    // THEN both notes are there, oldest first
    const pkg = await cli.c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ApprovalDescription).toBe(
      [
        'Approved by arn:aws:sts::123456789012:user/moto: looked fine',
        'Rejected by arn:aws:sts::123456789012:user/moto: answers in the wrong language',
      ].join('\n'),
    );
    ctx.close();
  });

  test('rejects a package by ARN through the commander command, with a default description', async () => {
    const arn = await registerPackage(cli.c, { eval_loss: '3.2' });
    const env = new CapturedEnvironment(cli.project, { USER: 'tester' });
    await rejectCommand(env).parseAsync(['--endpoint-url', cli.moto.endpoint, '--region', 'us-east-1', arn], {
      from: 'user',
    });
    expect(env.exitCode).toBe(0);
    const pkg = await cli.c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ModelApprovalStatus).toBe('Rejected');
    expect(pkg.ApprovalDescription).toBe(
      'Rejected by arn:aws:sts::123456789012:user/moto: with the gpt-oss CLI (local user tester)',
    );
  });

  test('fails on an unknown version or recipe, listing what exists', async () => {
    await registerPackage(cli.c, { eval_loss: '1.2' });
    const { ctx } = cli.context();
    expect(await expectCliError(setApproval(ctx, 'demo-lora/7', 'Approved', undefined))).toBe(
      'model package group gptoss-test-demo-lora has no version 7; versions: 1',
    );
    expect(await expectCliError(setApproval(ctx, 'ghost/1', 'Approved', undefined))).toBe(
      'unknown recipe "ghost": there is no model package group "gptoss-test-ghost"; recipes with a model registry: demo-lora',
    );
    expect(await expectCliError(listModels(ctx, 'ghost'))).toMatch(/^unknown recipe "ghost"/);
    expect(await expectCliError(setApproval(ctx, 'demo-lora', 'Approved', undefined))).toMatch(
      /"demo-lora" does not name a model package; write <recipe>\/<version>/,
    );
    ctx.close();
  });
});

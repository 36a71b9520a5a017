import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { servingSettingsFiles } from '../../lib/constructs/serving-settings';
import { aslValidation, type CfnTemplate } from '../support/sfn-local';
import {
  buildDeploymentStack,
  deployDefinition,
  type DeploymentFixture,
  deploymentTemplate,
  fixtureRecipe,
  IMPORTED,
  PREFIX,
  registerDefinition,
} from './support';

/** The DeploymentStack's event rules and its two state machines (definitions, logging, settings objects). */

let fixture: DeploymentFixture;
let template: Template;

beforeAll(() => {
  ({ fixture, template } = deploymentTemplate());
});

describe('event rules', () => {
  test("REGISTER starts on Succeeded executions of this deployment's pipelines only", () => {
    // GIVEN the stack WHEN synthesized THEN the rule matches the pipeline ARN prefix and Succeeded status
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Building Pipeline Execution Status Change'],
        detail: {
          currentPipelineExecutionStatus: ['Succeeded'],
          pipelineArn: [{ prefix: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PREFIX}-` }],
        },
      },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^RegisterStateMachine') },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UndeliveredEvents'), 'Arn'] } },
        }),
      ],
    });
  });

  test("DEPLOY starts on Approved, completed packages of this deployment's groups only", () => {
    // GIVEN the stack WHEN synthesized THEN the rule matches the group prefix and Approved status
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: {
          ModelPackageGroupName: [{ prefix: `${PREFIX}-` }],
          ModelApprovalStatus: ['Approved'],
          ModelPackageStatus: ['Completed'],
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^DeployStateMachine') } })],
    });
    template.resourceCountIs('AWS::Events::Rule', 2);
  });
});

describe('state machines', () => {
  test('log ALL with execution data to KMS-encrypted log groups, and trace with X-Ray', () => {
    // GIVEN the two state machines WHEN synthesized THEN both log and trace
    for (const name of [`${PREFIX}-register`, `${PREFIX}-deploy`]) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
        },
      });
    }
    // (the third group is the settings file deployment's handler's)
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.values(groups)).toHaveLength(3);
    for (const group of Object.values(groups)) {
      expect(group.Properties).toMatchObject({ KmsKeyId: IMPORTED.keyArn, RetentionInDays: 365 });
    }
  });

  test('both definitions are valid ASL (asl-validator), on JSONPath', () => {
    // GIVEN the synthesized definitions WHEN validated THEN no errors
    for (const definition of [registerDefinition(fixture), deployDefinition(fixture)]) {
      const { isValid, errors } = aslValidation(definition);
      expect(errors).toEqual([]);
      expect(isValid).toBe(true);
      expect(JSON.stringify(definition)).not.toContain('JSONata');
    }
  });

  test('with no recipes, both machines are valid and ignore every event', () => {
    // GIVEN a deployment without recipes WHEN synthesized THEN the definitions are valid ASL
    const empty = buildDeploymentStack({ recipes: [] });
    for (const definition of [registerDefinition(empty), deployDefinition(empty)]) {
      expect(aslValidation(definition).errors).toEqual([]);
    }
    expect(registerDefinition(empty).States['Not a recipe pipeline']).toMatchObject({ Type: 'Succeed' });
    // AND there is nothing to deploy or read: no settings deployment, no S3 grant but REGISTER's registry copy
    Template.fromJSON(empty.template).resourceCountIs('Custom::CDKBucketDeployment', 0);
    const machinePolicies = Object.entries(empty.template.Resources).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Policy' && /^(RegisterRole|DeployStateMachineRole)DefaultPolicy/.test(id),
    );
    expect(machinePolicies).toHaveLength(2);
    const [deployPolicy] = machinePolicies.filter(([id]) => id.startsWith('Deploy'));
    expect(JSON.stringify(deployPolicy)).not.toMatch(/"s3:/);
    const [registerPolicy] = machinePolicies.filter(([id]) => id.startsWith('Register'));
    expect(JSON.stringify(registerPolicy)).not.toContain('serving/');
  });

  test('a recipe adds neither a state nor a CloudFormation resource: the definitions differ only in the settings revision', () => {
    // GIVEN one and two recipes WHEN synthesized THEN the resource lists are the same
    const one = buildDeploymentStack({ recipes: [fixtureRecipe('sft-lora-20b')] });
    const types = (t: CfnTemplate) =>
      Object.values(t.Resources)
        .map((r) => r.Type)
        .sort();
    expect(types(one.template)).toEqual(types(fixture.template));
    // AND both definitions are the same text once the content-addressed settings prefix is set aside
    const revisionFree = (f: DeploymentFixture, definition: unknown) =>
      JSON.stringify(definition).split(f.stack.servingSettings.prefix).join('serving/<revision>/');
    expect(one.stack.servingSettings.prefix).not.toBe(fixture.stack.servingSettings.prefix);
    expect(revisionFree(one, registerDefinition(one))).toBe(revisionFree(fixture, registerDefinition(fixture)));
    expect(revisionFree(one, deployDefinition(one))).toBe(revisionFree(fixture, deployDefinition(fixture)));
  });

  test('both machines read the settings objects only after they are deployed, from the prefix they name', () => {
    // GIVEN the stack WHEN synthesized THEN one file deployment writes the settings prefix from one source
    const prefix = fixture.stack.servingSettings.prefix;
    expect(prefix).toMatch(/^serving\/[0-9a-f]{16}\/$/);
    const deployments = template.findResources('Custom::CDKBucketDeployment');
    const [[deploymentId, deployment]] = Object.entries(deployments).filter(
      ([, r]) => (r.Properties as Record<string, unknown>).DestinationBucketKeyPrefix === prefix,
    );
    expect(deployment.Properties).toMatchObject({
      DestinationBucketName: IMPORTED.bucketName,
      SourceObjectKeys: [expect.stringMatching(/\.zip$/)],
      Prune: false,
      RetainOnDelete: true,
    });
    expect(deployment.Properties.SourceMarkers).toBeUndefined();
    // AND each state machine depends on it and names the prefix in its definition
    for (const [logicalIdPrefix, definition] of [
      ['RegisterStateMachine', registerDefinition(fixture)],
      ['DeployStateMachine', deployDefinition(fixture)],
    ] as const) {
      const [machine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) =>
        id.startsWith(logicalIdPrefix),
      );
      expect(machine[1].DependsOn).toEqual(expect.arrayContaining([deploymentId]));
      expect(JSON.stringify(definition)).toContain(`'${prefix}{}.json'`);
    }
  });

  test('the staged settings asset holds exactly the objects servingSettingsFiles generates', () => {
    // GIVEN the synthesized assembly WHEN the staged directory is read THEN it has one file per object
    const settings = fixture.stack.servingSettings;
    const staged = path.join(fixture.app.outdir, settings.asset?.assetPath ?? 'missing');
    const { files } = servingSettingsFiles(fixture.stack.plans);
    expect(fs.readdirSync(staged).sort()).toEqual(files.map((f) => `${f.name}.json`).sort());
    for (const file of files) {
      expect(fs.readFileSync(path.join(staged, `${file.name}.json`), 'utf8')).toBe(file.body);
      expect(file.key).toBe(`${settings.prefix}${file.name}.json`);
    }
    expect(files.map((f) => f.name)).toEqual(['gptoss-dev-full-120b-auto', 'gptoss-dev-sft-lora-20b']);
  });
});

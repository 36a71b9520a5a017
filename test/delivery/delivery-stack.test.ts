import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/python-tools';
import type { TemplateJson } from '../support/template';
import { synthDelivery } from './support';

type Obj = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Obj;
}
interface Action {
  Name: string;
  ActionTypeId: { Provider: string };
  RunOrder: number;
  Configuration?: Obj;
}

function resourcesOf(template: TemplateJson, type: string): [string, Resource][] {
  return Object.entries(template.Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
}

/** A CodeBuild project's `Source.BuildSpec`: the buildspec itself, or the name of a file in the assembly. */
function buildSpecOf(project: Resource): string {
  return (project.Properties.Source as { BuildSpec: string }).BuildSpec;
}

/** The commands of the README's "Delivery pipeline" synth block (the fenced block after the marker comment). */
function readmeSynthCommands(): string[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const marker = '<!-- delivery-synth-commands: test/delivery/delivery-stack.test.ts compares this block -->';
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no "${marker}" line`);
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error('README.md: no ```bash block after the delivery-synth-commands marker');
  return block[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

describe('delivery stack', () => {
  // GIVEN the delivery app synthesized once from stages/delivery.yaml, stages/dev.yaml, stages/prod.yaml
  const synthesized = synthDelivery();
  const template = synthesized.pipelineTemplate;
  const [, pipelineResource] = resourcesOf(template, 'AWS::CodePipeline::Pipeline')[0];
  const stages = pipelineResource.Properties.Stages as { Name: string; Actions: Action[] }[];
  const projects = Object.fromEntries(resourcesOf(template, 'AWS::CodeBuild::Project'));

  test('deploys each stage of the delivery config in order, with a manual approval before prod only', () => {
    // THEN the pipeline runs source, synth, self-mutation and assets, then dev, then prod
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev', 'prod']);
    const dev = stages[4].Actions;
    const prod = stages[5].Actions;
    expect(dev.filter((a) => a.ActionTypeId.Provider === 'Manual')).toEqual([]);
    // the approval is prod's first action; every prod deployment waits for it
    const approval = prod.find((a) => a.ActionTypeId.Provider === 'Manual');
    expect(approval?.Name).toBe('Approve-prod');
    expect(Math.min(...prod.filter((a) => a !== approval).map((a) => a.RunOrder))).toBeGreaterThan(approval!.RunOrder);
    // each stage deploys its own five platform stacks, to the account its stage file names
    for (const [actions, stage, account] of [
      [dev, 'dev', '111111111111'],
      [prod, 'prod', '222222222222'],
    ] as const) {
      const deployed = actions.filter((a) => a.Name.endsWith('.Deploy')).map((a) => a.Name.replace('.Deploy', ''));
      expect(deployed.sort()).toEqual(
        ['data', 'deployment', 'network', 'studio', 'training'].map((p) => `gptoss-${stage}-${p}`),
      );
      const roles = JSON.stringify(actions.map((a) => a.Configuration?.RoleArn));
      expect(roles).toContain(`:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-us-east-1`);
    }
    // and both stages hold one pipeline per recipe: a merged recipe reaches dev first, prod after the approval
    const recipeNames = fs
      .readdirSync(path.join(REPO_ROOT, 'recipes'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
    expect(
      synthesized.delivery.stages.map((s) => [s.stageName, [...s.stacks.training.pipelines.keys()].sort()]),
    ).toEqual([
      ['dev', recipeNames],
      ['prod', recipeNames],
    ]);
  });

  test('reads the repository through the CodeConnections connection and branch of the config', () => {
    const source = stages[0].Actions[0];
    expect(source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source.Configuration).toMatchObject({
      ConnectionArn: synthesized.config.delivery!.connectionArn,
      FullRepositoryId: 'my-org/gpt-oss-finetune',
      BranchName: 'main',
      DetectChanges: true,
    });
    // IAM matches a codeconnections ARN only with the codeconnections prefix (aws-cdk-lib grants the old one)
    const statements = resourcesOf(template, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties.PolicyDocument as { Statement: Obj[] }).Statement,
    );
    expect(statements).toContainEqual({
      Action: expect.arrayContaining(['codeconnections:UseConnection']),
      Effect: 'Allow',
      Resource: synthesized.config.delivery!.connectionArn,
    });
  });

  test("runs the README's synth commands in CodeBuild, with the commit as GIT_SHA", () => {
    // GIVEN the synth project of the Build stage
    const synthAction = stages[1].Actions[0];
    const projectId = (synthAction.Configuration!.ProjectName as { Ref: string }).Ref;
    const buildSpec = JSON.parse(buildSpecOf(projects[projectId])) as {
      phases: { install: Obj; build: { commands: string[] } };
      artifacts: { 'base-directory': string };
    };
    // THEN its commands are exactly the README's, in order, ending in the synth of this delivery config
    expect(buildSpec.phases.build.commands).toEqual(readmeSynthCommands());
    expect(buildSpec.phases.build.commands.at(-1)).toBe(
      'bash .ci/with-node.sh npx cdk synth --quiet -c configFile=stages/delivery.yaml',
    );
    expect(buildSpec.phases.install).toEqual({ 'runtime-versions': { nodejs: '22', python: '3.11' } });
    // AND the Node of package.json "engines" is chosen first, and nothing node-based runs on the image's Node
    // (npm run scripts go through .ci/with-node.sh themselves)
    const [first, ...rest] = buildSpec.phases.build.commands;
    expect(first).toBe('bash .ci/use-node.sh');
    expect(rest.filter((c) => /^(npx|npm ci|node|tsx|cdk)\b/.test(c))).toEqual([]);
    expect(buildSpec.artifacts['base-directory']).toBe('cdk.out');
    // every jest path it names exists (a renamed test file would otherwise pass unnoticed until CodeBuild)
    const jest = buildSpec.phases.build.commands.find((c) => c.includes('npx jest'))!;
    for (const file of jest.split(' ').filter((w) => w.startsWith('test/'))) {
      expect({ file, exists: fs.existsSync(path.join(REPO_ROOT, file)) }).toEqual({ file, exists: true });
    }
    const env = JSON.parse(synthAction.Configuration!.EnvironmentVariables as string) as {
      name: string;
      value: string;
    }[];
    expect(env).toContainEqual({
      name: 'GIT_SHA',
      type: 'PLAINTEXT',
      value: '#{Source@my-org_gpt-oss-finetune.CommitId}',
    });
  });

  test('mutates itself with the CDK CLI version the repository pins', () => {
    const selfMutation = stages[2].Actions[0];
    const projectId = (selfMutation.Configuration!.ProjectName as { Ref: string }).Ref;
    const spec = JSON.parse(buildSpecOf(projects[projectId])) as { phases: { install: { commands: string[] } } };
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    expect(spec.phases.install.commands).toEqual([
      `npm install -g aws-cdk@${lock.packages['node_modules/aws-cdk'].version}`,
    ]);
  });

  test('builds the training image in CodeBuild, logged in to the DLC registry its Dockerfile starts FROM', () => {
    // GIVEN the Dockerfile's base image
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'training-code', 'Dockerfile'), 'utf8');
    const baseImage = /^ARG BASE_IMAGE=(\S+)$/m.exec(dockerfile)![1];
    const registry = baseImage.split('/')[0];
    const repository = baseImage.split('/')[1].split(':')[0];
    expect(registry).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com');
    // THEN the Docker publishing project is privileged (docker build), and its buildspec (written to the
    // cloud assembly by CDK Pipelines) configures cdk-assets' ECR login for that registry
    const [, docker] = Object.entries(projects).find(([id]) => id.startsWith('PipelineAssetsDockerAsset'))!;
    expect(docker.Properties.Environment).toMatchObject({ PrivilegedMode: true, Image: 'aws/codebuild/standard:7.0' });
    const specFile = path.join(synthesized.app.outdir, buildSpecOf(docker));
    const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as {
      phases: { pre_build: { commands: string[] }; build: { commands: string[] } };
    };
    expect(spec.phases.pre_build.commands).toContain(
      `echo '{"version":"1.0","domainCredentials":{"${registry}":{"ecrRepository":true}}}' > $HOME/.cdk/cdk-docker-creds.json`,
    );
    // one image asset per stage, published to that stage's account
    expect(spec.phases.build.commands).toEqual([
      expect.stringMatching(/^cdk-assets --path "assembly-gptoss-delivery-dev\/.+:111111111111-us-east-1-[0-9a-f]+"$/),
      expect.stringMatching(/^cdk-assets --path "assembly-gptoss-delivery-prod\/.+:222222222222-us-east-1-[0-9a-f]+"$/),
    ]);
    // and its role may pull that repository (and only get a registry token account-wide)
    const dockerRole = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) =>
      id.startsWith('PipelineAssetsDockerRoleDefaultPolicy'),
    )![1];
    expect((dockerRole.Properties.PolicyDocument as { Statement: Obj[] }).Statement).toContainEqual({
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      Effect: 'Allow',
      Resource: `arn:aws:ecr:us-east-1:763104351884:repository/${repository}`,
    });
  });

  test('encrypts artifacts, build output and logs with its own rotating key; buckets are secure and retained', () => {
    const [keyId, key] = resourcesOf(template, 'AWS::KMS::Key')[0];
    expect(resourcesOf(template, 'AWS::KMS::Key')).toHaveLength(1);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(pipelineResource.Properties.ArtifactStore).toEqual({
      EncryptionKey: { Id: { 'Fn::GetAtt': [keyId, 'Arn'] }, Type: 'KMS' },
      Location: { Ref: expect.stringMatching(/^Artifacts/) },
      Type: 'S3',
    });
    const buckets = Object.fromEntries(resourcesOf(template, 'AWS::S3::Bucket'));
    const artifacts = Object.entries(buckets).find(([id]) => id.startsWith('Artifacts'))![1];
    expect(artifacts.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] }, SSEAlgorithm: 'aws:kms' },
        },
      ],
    });
    expect(artifacts.Properties.LoggingConfiguration).toBeDefined();
    for (const [id, project] of Object.entries(projects)) {
      expect({ id, key: project.Properties.EncryptionKey }).toEqual({ id, key: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      expect({ id, logs: project.Properties.LogsConfig }).toEqual({
        id,
        logs: { CloudWatchLogs: { GroupName: { Ref: expect.stringMatching(/^BuildLogs/) }, Status: 'ENABLED' } },
      });
    }
    const [, logGroup] = resourcesOf(template, 'AWS::Logs::LogGroup')[0];
    expect(logGroup.Properties).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365 });
  });

  test('synthesizes without AWS: no context look-ups anywhere in the assembly', () => {
    // GIVEN the cloud assembly and the stages' nested assemblies
    const assembly = synthesized.app.synth();
    const missing = [
      ...(assembly.manifest.missing ?? []),
      ...assembly.nestedAssemblies.flatMap((n) => n.nestedAssembly.manifest.missing ?? []),
    ];
    // THEN nothing is left for the CLI to look up (a look-up would need credentials at synth)
    expect(missing).toEqual([]);
    expect(assembly.nestedAssemblies.map((n) => n.nestedAssembly.directory.split(path.sep).at(-1))).toEqual([
      'assembly-gptoss-delivery-dev',
      'assembly-gptoss-delivery-prod',
    ]);
  });
});

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreatePipelineCommand,
  DescribePipelineCommand,
  ListPipelineExecutionsCommand,
  ListPipelineParametersForExecutionCommand,
  SageMakerClient,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { pipelineName } from '../../lib/config/naming';
import { ARTIFACT_KEYS, buildTrainingPipeline } from '../../lib/pipeline';
import { startMotoServer, type MotoServer } from '../support/moto-server';
import { loadRecipesFrom, REPO_RECIPES_DIR } from '../support/template';
import { DEPLOY_VALUES, fixtureRecipe, TEST_METRICS } from './support';

/**
 * The definition as SageMaker's API receives it, through an AWS emulator over real HTTP: uploaded to S3,
 * created from PipelineDefinitionS3Location (what CloudFormation does), started with parameter overrides.
 */

let moto: MotoServer;
let sagemaker: SageMakerClient;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  const common = { endpoint: moto.endpoint, region: 'us-east-1' };
  sagemaker = new SageMakerClient(common);
  s3 = new S3Client({ ...common, forcePathStyle: true });
});
afterAll(async () => {
  sagemaker?.destroy();
  s3?.destroy();
  await moto?.stop();
});

const RECIPES = [fixtureRecipe('sft-lora-20b'), fixtureRecipe('minimal-120b'), ...loadRecipesFrom(REPO_RECIPES_DIR)];

test.each(RECIPES.map((r) => [r.file, r] as const))(
  '%s: created from S3, started with overrides, listed',
  async (_file, recipe) => {
    // GIVEN the recipe definition uploaded where the stack puts it.
    const definition = buildTrainingPipeline(recipe, DEPLOY_VALUES, {
      metricDefinitions: TEST_METRICS,
      volumeSizeGb: 200,
      gitSha: 'abc1234',
    });
    const body = definition.render();
    const key = ARTIFACT_KEYS.definition(recipe.name, 'test');
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: DEPLOY_VALUES.artifactsBucketName }));
    await s3.send(new PutObjectCommand({ Bucket: DEPLOY_VALUES.artifactsBucketName, Key: key, Body: body }));
    const name = pipelineName({ namePrefix: 'gptoss', stage: 'dev' }, recipe.name);

    // WHEN the pipeline is created from the S3 location and an execution starts with overrides.
    await sagemaker.send(
      new CreatePipelineCommand({
        PipelineName: name,
        PipelineDefinitionS3Location: { Bucket: DEPLOY_VALUES.artifactsBucketName, ObjectKey: key },
        RoleArn: 'arn:aws:iam::123456789012:role/gptoss-dev-pipeline',
        PipelineDescription: recipe.document.platform.description,
      }),
    );
    const started = await sagemaker.send(
      new StartPipelineExecutionCommand({
        PipelineName: name,
        PipelineExecutionDisplayName: 'override-test',
        PipelineParameters: [
          { Name: 'UseSpot', Value: 'false' },
          { Name: 'MaxSteps', Value: '100' },
          { Name: 'TrainingInstanceType', Value: 'ml.p4de.24xlarge' },
        ],
      }),
    );

    // THEN the stored definition is the uploaded file, and the execution is listed with its overrides.
    // (moto json.loads the S3 object, so a file that is not JSON fails CreatePipeline above; it then returns the
    // Python repr of the parsed dict, so the round trip is compared by content, not byte for byte.)
    const described = await sagemaker.send(new DescribePipelineCommand({ PipelineName: name }));
    for (const step of definition.allSteps()) expect(described.PipelineDefinition).toContain(`'${step.name}'`);
    expect(described.PipelineDefinition).toContain("'Version': '2020-12-01'");
    const executions = await sagemaker.send(new ListPipelineExecutionsCommand({ PipelineName: name }));
    expect(executions.PipelineExecutionSummaries?.map((e) => e.PipelineExecutionArn)).toEqual([
      started.PipelineExecutionArn,
    ]);
    const params = await sagemaker.send(
      new ListPipelineParametersForExecutionCommand({ PipelineExecutionArn: started.PipelineExecutionArn }),
    );
    expect(params.PipelineParameters).toEqual(
      expect.arrayContaining([
        { Name: 'UseSpot', Value: 'false' },
        { Name: 'MaxSteps', Value: '100' },
        { Name: 'TrainingInstanceType', Value: 'ml.p4de.24xlarge' },
      ]),
    );
  },
);

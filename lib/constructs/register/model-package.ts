import type { CreateModelPackageOutput } from '@aws-sdk/client-sagemaker';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MODEL_PACKAGE_CREATE_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure, recordFailure } from '../workflow/failures';
import { taskResult } from '../workflow/state-paths';
import { evalLoss, ids, job, model, modelPackage, provenance, recipe, run } from './state';

/** The ARN patterns of the packages REGISTER creates. */
export interface ModelPackageArns {
  readonly packages: string;
  readonly groups: string;
}

/**
 * The model's S3 prefix (the training job must have written it uncompressed: the vLLM container serves a
 * prefix), then CreateModelPackage in the recipe's group with the serving container, provenance metadata
 * and the recipe's approval status; its version at `$.package`. Then `next`.
 */
export function modelPackagePhase(
  scope: Construct,
  arns: ModelPackageArns,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
  copyToRegistry: (then: sfn.IChainable) => sfn.IChainable,
): sfn.IChainable {
  const create = createModelPackage(scope, arns);
  const copy = copyToRegistry(create);
  catchAsFailure(scope, create, 'Create model package', onFailure);
  const version = new sfn.Pass(scope, 'Package version', {
    comment: 'arn:...:model-package/<group>/<version>',
    parameters: {
      arn: modelPackage.string('arn'),
      version: sfn.JsonPath.arrayGetItem(sfn.JsonPath.stringSplit(modelPackage.string('arn'), '/'), 2),
    },
    resultPath: modelPackage.root,
  });
  create.next(version).next(next);

  const compressed = recordFailure(scope, 'Compressed model output', {
    step: 'Describe training job',
    error: 'CompressedModelOutput',
    cause:
      'the training job did not set OutputDataConfig.CompressionType NONE; the vLLM container serves an uncompressed S3 prefix',
  });
  const output = job.at('OutputDataConfig');
  const artifacts = job.at('ModelArtifacts');
  const prefix = (id: string, value: string) =>
    new sfn.Pass(scope, id, { parameters: { prefix: value }, resultPath: model.root }).next(copy);
  const fromOutput = (separator: string) =>
    sfn.JsonPath.format(`{}${separator}{}/output/model/`, output.string('S3OutputPath'), job.string('TrainingJobName'));
  return new sfn.Choice(scope, 'Model output uncompressed?')
    .when(
      sfn.Condition.or(
        sfn.Condition.not(sfn.Condition.isPresent(output.path('CompressionType'))),
        sfn.Condition.not(sfn.Condition.stringEquals(output.path('CompressionType'), 'NONE')),
      ),
      compressed.next(onFailure),
    )
    .when(
      sfn.Condition.stringMatches(artifacts.path('S3ModelArtifacts'), '*/'),
      prefix('Model prefix from artifacts', artifacts.string('S3ModelArtifacts')),
    )
    .when(
      sfn.Condition.stringMatches(output.path('S3OutputPath'), '*/'),
      prefix('Model prefix from output path', fromOutput('')),
    )
    .otherwise(prefix('Model prefix from output path without slash', fromOutput('/')));
}

function createModelPackage(scope: Construct, arns: ModelPackageArns): sfn.TaskStateBase {
  const env = provenance.at('env');
  return awsCall(scope, 'Create model package', {
    service: 'sagemaker',
    action: 'createModelPackage',
    parameters: {
      ModelPackageGroupName: recipe.string('groupName'),
      ModelPackageDescription: ids.string('description'),
      ClientToken: ids.string('clientToken'),
      ModelApprovalStatus: recipe.string('approvalStatus'),
      Domain: 'NATURAL_LANGUAGE_PROCESSING',
      Task: 'TEXT_GENERATION',
      InferenceSpecification: {
        Containers: [
          {
            Image: recipe.string('image'),
            ModelDataSource: {
              S3DataSource: { S3Uri: model.string('prefix'), S3DataType: 'S3Prefix', CompressionType: 'None' },
            },
            Environment: recipe.object('environment'),
          },
        ],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
        SupportedRealtimeInferenceInstanceTypes: recipe.list('instanceTypes'),
      },
      MetadataProperties: { GeneratedBy: run.string('executionArn'), CommitId: env.string('GIT_SHA') },
      ModelMetrics: {
        ModelQuality: {
          Statistics: {
            ContentType: 'application/json',
            S3Uri: sfn.JsonPath.format('{}evaluation.json', model.string('prefix')),
          },
        },
      },
      CustomerMetadataProperties: {
        recipe: recipe.string('recipe'),
        recipe_hash: env.string('RECIPE_HASH'),
        git_sha: env.string('GIT_SHA'),
        dataset_uri: env.string('DATASET_URI'),
        eval_loss: evalLoss.string('text'),
        mlflow_tracking_arn: env.string('MLFLOW_TRACKING_ARN'),
        mlflow_experiment: env.string('MLFLOW_EXPERIMENT_NAME'),
        mlflow_run_name: job.string('TrainingJobName'),
        training_job: job.string('TrainingJobName'),
        model_source: model.string('source'),
        model_files_sha256: model.string('manifest'),
        model_manifest_sha256: model.string('manifestSha256'),
        pipeline_execution_arn: run.string('executionArn'),
      },
      Tags: [{ Key: 'recipe', Value: recipe.string('recipe') }],
    },
    iamResources: [arns.packages, arns.groups],
    iamAction: MODEL_PACKAGE_CREATE_ACTIONS[0],
    // tags on create are authorized as sagemaker:AddTags on the new version.
    additionalIamStatements: [new iam.PolicyStatement({ actions: ['sagemaker:AddTags'], resources: [arns.packages] })],
    resultSelector: { arn: taskResult<CreateModelPackageOutput>().string('ModelPackageArn') },
    resultPath: modelPackage.root,
  });
}

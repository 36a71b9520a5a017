import type { ListPipelineExecutionStepsResponse } from '@aws-sdk/client-sagemaker';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { PIPELINE_STEPS_READ_ACTIONS, TRAINING_JOB_DESCRIBE_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure, recordFailure } from '../workflow/failures';
import { taskResult } from '../workflow/state-paths';
import { rendered, run, steps, trainingJob, job } from './state';

/** The ARN patterns of the pipeline executions and training jobs REGISTER reads. */
export interface TrainingJobArns {
  readonly executions: string;
  readonly trainingJobs: string;
}

/**
 * Find the pipeline execution's training job among its steps and describe it (at `$.job`). Then `next`; an
 * execution without a training job fails.
 */
export function trainingJobPhase(
  scope: Construct,
  arns: TrainingJobArns,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const listSteps = awsCall(scope, 'List pipeline steps', {
    service: 'sagemaker',
    action: 'listPipelineExecutionSteps',
    parameters: { PipelineExecutionArn: run.string('executionArn'), SortOrder: 'Ascending', MaxResults: 100 },
    iamResources: [arns.executions],
    iamAction: PIPELINE_STEPS_READ_ACTIONS[0],
    resultSelector: { list: taskResult<ListPipelineExecutionStepsResponse>().list('PipelineExecutionSteps') },
    resultPath: steps.root,
  });
  const stepsJson = rendered('$.stepsJson');
  const render = new sfn.Pass(scope, 'Render steps', {
    comment: 'A filter that matches nothing is a States.Runtime error, so look for a training job first.',
    parameters: { json: sfn.JsonPath.jsonToString(steps.list('list')) },
    resultPath: stepsJson.root,
  });
  const select = new sfn.Pass(scope, 'Select training job', {
    parameters: {
      arns: sfn.JsonPath.listAt(`${steps.path('list')}[?(@.Metadata.TrainingJob)].Metadata.TrainingJob.Arn`),
    },
    resultPath: trainingJob.root,
  });
  const noTrainingJob = recordFailure(scope, 'No training job', {
    step: 'List pipeline steps',
    error: 'NoTrainingJob',
    cause: 'the pipeline execution has no step with a training job',
  });
  const name = new sfn.Pass(scope, 'Training job name', {
    parameters: {
      name: sfn.JsonPath.arrayGetItem(
        sfn.JsonPath.stringSplit(sfn.JsonPath.arrayGetItem(trainingJob.list('arns'), 0), '/'),
        1,
      ),
    },
    resultPath: trainingJob.root,
  });
  const describe = awsCall(scope, 'Describe training job', {
    service: 'sagemaker',
    action: 'describeTrainingJob',
    parameters: { TrainingJobName: trainingJob.string('name') },
    // SageMaker Pipelines names its jobs "pipelines-<execution id>-<step>-<suffix>"; no recipe name to scope by.
    iamResources: [arns.trainingJobs],
    iamAction: TRAINING_JOB_DESCRIBE_ACTIONS[0],
    resultPath: job.root,
  });
  catchAsFailure(scope, listSteps, 'List pipeline steps', onFailure);
  catchAsFailure(scope, describe, 'Describe training job', onFailure);
  name.next(describe).next(next);
  return listSteps
    .next(render)
    .next(
      new sfn.Choice(scope, 'Training job found?')
        .when(sfn.Condition.stringMatches(stepsJson.path('json'), '*"TrainingJob":{*'), select.next(name))
        .otherwise(noTrainingJob.next(onFailure)),
    );
}

import { DescribeModelPackageCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { type CallOverride, type RecordedCall, runLocally } from '../../support/sfn-local';
import { sageMakerClient, useMotoDeployment } from '../support';

/** The recipes the REGISTER scenarios register: the reviewed one's group and pipeline, and the auto-approved group. */
export const GROUP = 'gptoss-dev-sft-lora-20b';
export const PIPELINE = 'gptoss-dev-sft-lora-20b';
export const AUTO_GROUP = 'gptoss-dev-full-120b-auto';

/** ListPipelineExecutionSteps (not in moto): the pipeline's Train step and its quality gate. */
export function stepsOf(trainingJobArn: string | undefined): CallOverride {
  return () => ({
    PipelineExecutionSteps: [
      {
        StepName: 'QualityGate',
        StepStatus: 'Succeeded',
        Metadata: { Condition: { Outcome: 'False' } },
      },
      ...(trainingJobArn
        ? [{ StepName: 'Train', StepStatus: 'Succeeded', Metadata: { TrainingJob: { Arn: trainingJobArn } } }]
        : []),
    ],
  });
}

/** DescribeTrainingJob as SageMaker answers for this job (moto's answer plus what moto drops). */
export const sageMakerFaithfulDescribe: CallOverride = async (params, next) => {
  const job = (await next()) as Record<string, unknown> & { OutputDataConfig: { S3OutputPath: string } };
  return {
    ...job,
    Environment: {
      RECIPE_NAME: 'sft-lora-20b',
      RECIPE_HASH: 'abc123def456',
      GIT_SHA: '0123456789abcdef0123456789abcdef01234567',
      DATASET_URI: 's3://gptoss-dev-datasets/datasets/sft-lora-20b/',
      MLFLOW_TRACKING_ARN: 'arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/gptoss-dev',
      MLFLOW_EXPERIMENT_NAME: 'sft-lora-20b',
    },
    FinalMetricDataList: [
      { MetricName: 'train_loss', Value: 0.9132, Timestamp: '2026-11-27T11:59:00Z' },
      { MetricName: 'eval_loss', Value: 1.0425, Timestamp: '2026-11-27T11:59:30Z' },
    ],
    ModelArtifacts: {
      S3ModelArtifacts: `${job.OutputDataConfig.S3OutputPath}/${params.TrainingJobName as string}/output/model/`,
    },
  };
};

/** What {@link useRegisterWorkflow} hands the REGISTER scenarios. */
export type RegisterWorkflow = ReturnType<typeof useRegisterWorkflow>;

/**
 * The moto server and DeploymentStack of register-workflow.test.ts (support.ts `useMotoDeployment`), with the
 * helpers its REGISTER scenarios share. `register` records the calls and entered states of every run for the
 * file's closing cross-run checks.
 */
export function useRegisterWorkflow() {
  const deployment = useMotoDeployment();
  const allCalls: RecordedCall[] = [];
  const enteredStates = new Set<string>();

  async function register(
    event: Record<string, unknown>,
    overrides: Record<string, CallOverride>,
    machine: StateMachineDefinition = deployment.registerMachine,
  ): Promise<Awaited<ReturnType<typeof runLocally>>> {
    const result = await runLocally(machine, event, { endpoint: deployment.moto.endpoint, overrides });
    allCalls.push(...result.calls);
    result.path.forEach((s) => enteredStates.add(s));
    return result;
  }

  async function packagesIn(group: string) {
    const sm = sageMakerClient(deployment.moto.endpoint);
    const list = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }));
    return Promise.all(
      (list.ModelPackageSummaryList ?? []).map((p) =>
        sm.send(new DescribeModelPackageCommand({ ModelPackageName: p.ModelPackageArn })),
      ),
    );
  }

  return Object.assign(deployment, {
    /** Every call of every `register` run so far. */
    allCalls: allCalls as readonly RecordedCall[],
    /** Every state entered by a `register` run so far. */
    enteredStates: enteredStates as ReadonlySet<string>,
    register,
    packagesIn,
  });
}

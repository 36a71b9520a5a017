import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type NamingContext, resourcePrefix } from '../config/naming';
import { SERVING_VARIANT_NAME } from '../recipes/serving-plan';

/** Props of {@link EndpointOperations}. */
export interface EndpointOperationsProps {
  readonly naming: NamingContext;
  /** The REGISTER and DEPLOY state machines (graphed, and their failed-execution alarms shown). */
  readonly stateMachines: readonly sfn.IStateMachine[];
  /** Alarms to show in the dashboard's alarm-status widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /**
   * Graph period.
   * @default cdk.Duration.minutes(5)
   */
  readonly period?: cdk.Duration;
}

/**
 * The operations view of the register-and-deploy stage: one CloudWatch dashboard for every endpoint and
 * pipeline of this deployment. Endpoints are created at run time by the DEPLOY state machine, so their
 * graphs are CloudWatch SEARCH expressions over this deployment's name prefix rather than one widget per
 * endpoint: the dashboard stays the same size for any number of recipes and shows new endpoints at once.
 * The per-endpoint rollback alarms (5xx, p90 latency) and autoscaling are put by the DEPLOY state machine,
 * for the same reason.
 */
export class EndpointOperations extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: EndpointOperationsProps) {
    super(scope, id);
    const prefix = resourcePrefix(props.naming);
    const period = props.period ?? cdk.Duration.minutes(5);
    const search = (namespace: string, dims: string, metric: string, stat: string, label: string) =>
      new cloudwatch.MathExpression({
        // unquoted terms match tokens of a name, so this finds every endpoint/pipeline named "<prefix>-...".
        expression: `SEARCH('{${namespace},${dims}} MetricName="${metric}" ${prefix}', '${stat}', ${period.toSeconds()})`,
        usingMetrics: {},
        label,
        period,
      });
    const endpointGraph = (title: string, metrics: cloudwatch.IMetric[], unit?: string, width = 8) =>
      new cloudwatch.GraphWidget({
        title,
        left: metrics,
        width,
        height: 6,
        leftYAxis: unit ? { label: unit, showUnits: false } : undefined,
      });
    const sagemaker = 'AWS/SageMaker';
    const endpointDims = 'EndpointName,VariantName';
    const instanceNs = '/aws/sagemaker/Endpoints';

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: `${prefix}-models`,
      defaultInterval: cdk.Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${prefix}: fine-tuned GPT-OSS endpoints and pipelines\n` +
          `Endpoints \`${prefix}-<recipe>\` (variant ${SERVING_VARIANT_NAME}) are created by the deploy state ` +
          'machine when a model package is approved. Rollback alarms: `<endpoint>-invocation-5xx`, ' +
          '`<endpoint>-model-latency`.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      endpointGraph('Invocations (sum)', [search(sagemaker, endpointDims, 'Invocations', 'Sum', '')]),
      endpointGraph('Errors (sum)', [
        search(sagemaker, endpointDims, 'Invocation5XXErrors', 'Sum', '5xx'),
        search(sagemaker, endpointDims, 'Invocation4XXErrors', 'Sum', '4xx'),
      ]),
      endpointGraph(
        'Model latency p90 (µs)',
        [search(sagemaker, endpointDims, 'ModelLatency', 'p90', '')],
        'microseconds',
      ),
    );
    this.dashboard.addWidgets(
      endpointGraph(
        'GPU utilization (%)',
        [search(instanceNs, endpointDims, 'GPUUtilization', 'Average', '')],
        '%',
        12,
      ),
      endpointGraph(
        'GPU memory utilization (%)',
        [search(instanceNs, endpointDims, 'GPUMemoryUtilization', 'Average', '')],
        '%',
        12,
      ),
    );
    const pipelineNs = 'AWS/Sagemaker/ModelBuildingPipeline';
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Pipeline executions',
        left: [
          search(pipelineNs, 'PipelineName', 'ExecutionSucceeded', 'Sum', 'succeeded'),
          search(pipelineNs, 'PipelineName', 'ExecutionFailed', 'Sum', 'failed'),
          search(pipelineNs, 'PipelineName', 'ExecutionStopped', 'Sum', 'stopped'),
        ],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Register / deploy executions',
        left: props.stateMachines.flatMap((machine) => [
          machine.metricSucceeded({ period, statistic: 'Sum' }),
          machine.metricFailed({ period, statistic: 'Sum' }),
        ]),
        width: 6,
        height: 6,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 6, height: 6 }),
    );
  }
}

import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { evalLoss, job, provenance, recipe, rendered } from './state';

/**
 * The training job's provenance: its environment (RECIPE_HASH, GIT_SHA, DATASET_URI, MLFLOW_*) over the
 * recipe's defaults, at `$.provenance.env`, and its final eval_loss as text ("not reported" without one),
 * at `$.evalLoss.text`. Then `next`.
 */
export function provenancePhase(scope: Construct, next: sfn.IChainable): sfn.IChainable {
  const merge = new sfn.Pass(scope, 'Read job environment', {
    comment: 'The job environment (RECIPE_HASH, GIT_SHA, DATASET_URI, MLFLOW_*) over the synthesized defaults.',
    parameters: { env: sfn.JsonPath.jsonMerge(recipe.object('defaultEnvironment'), job.object('Environment')) },
    resultPath: provenance.root,
  });
  const defaults = new sfn.Pass(scope, 'Use default environment', {
    parameters: { env: recipe.object('defaultEnvironment') },
    resultPath: provenance.root,
  });
  const metricsJson = rendered('$.metricsJson');
  const render = new sfn.Pass(scope, 'Render metrics', {
    parameters: { json: sfn.JsonPath.jsonToString(job.list('FinalMetricDataList')) },
    resultPath: metricsJson.root,
  });
  const select = new sfn.Pass(scope, 'Select eval loss', {
    parameters: {
      values: sfn.JsonPath.listAt(`${job.path('FinalMetricDataList')}[?(@.MetricName == 'eval_loss')].Value`),
    },
    resultPath: evalLoss.root,
  });
  const format = new sfn.Pass(scope, 'Format eval loss', {
    parameters: { text: sfn.JsonPath.format('{}', sfn.JsonPath.arrayGetItem(evalLoss.list('values'), 0)) },
    resultPath: evalLoss.root,
  });
  const none = new sfn.Pass(scope, 'No eval loss', {
    result: sfn.Result.fromObject({ text: 'not reported' }),
    resultPath: evalLoss.root,
  });
  format.next(next);
  none.next(next);
  const evalChoice = new sfn.Choice(scope, 'Eval loss reported?')
    .when(sfn.Condition.stringMatches(metricsJson.path('json'), '*"MetricName":"eval_loss"*'), select.next(format))
    .otherwise(none);
  const metricsChoice = new sfn.Choice(scope, 'Final metrics reported?')
    .when(sfn.Condition.isPresent(job.path('FinalMetricDataList')), render.next(evalChoice))
    .otherwise(none);
  merge.next(metricsChoice);
  defaults.next(metricsChoice);
  return new sfn.Choice(scope, 'Job environment set?')
    .when(sfn.Condition.isPresent(job.path('Environment')), merge)
    .otherwise(defaults);
}

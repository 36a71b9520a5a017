import type { DescribeModelPackageOutput } from '@aws-sdk/client-sagemaker';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MODEL_PACKAGE_DESCRIBE_ACTIONS } from '../../iam/deploy-actions';
import { SERVING_VARIANT_NAME } from '../../recipes/serving-plan';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure, recordFailure } from '../workflow/failures';
import { type StateFields, taskResult } from '../workflow/state-paths';
import type { DeployContext } from './context';
import { detail, names, type PackageFacts, pkg, type ResourceNames, settings } from './state';

/**
 * The approved package: describe it again (it may have been rejected since the event), refuse one without
 * an uncompressed model prefix, and name what this execution will create. Then `next`.
 */
export function packagePhase(
  scope: Construct,
  ctx: DeployContext,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const response = taskResult<DescribeModelPackageOutput>();
  const describe = awsCall(scope, 'Describe package', {
    service: 'sagemaker',
    action: 'describeModelPackage',
    parameters: { ModelPackageName: detail.string('ModelPackageArn') },
    iamResources: [ctx.arns.modelPackages],
    iamAction: MODEL_PACKAGE_DESCRIBE_ACTIONS[0],
    resultSelector: {
      arn: response.string('ModelPackageArn'),
      status: response.string('ModelApprovalStatus'),
      version: response.number('ModelPackageVersion'),
      container: sfn.JsonPath.objectAt('$.InferenceSpecification.Containers[0]'),
    } satisfies StateFields<PackageFacts>,
    resultPath: pkg.root,
  });
  catchAsFailure(scope, describe, 'Describe package', onFailure);

  const resourceNames: StateFields<ResourceNames> = {
    model: sfn.JsonPath.format('{}-v{}', settings.string('resourceBase'), pkg.string('version')),
    alarm5xx: sfn.JsonPath.format('{}-invocation-5xx', settings.string('endpointName')),
    alarmLatency: sfn.JsonPath.format('{}-model-latency', settings.string('endpointName')),
    scalingResourceId: sfn.JsonPath.format(
      'endpoint/{}/variant/{}',
      settings.string('endpointName'),
      SERVING_VARIANT_NAME,
    ),
    dataCaptureUri: sfn.JsonPath.format(
      's3://{}/{}{}/',
      ctx.props.artifactsBucket.bucketName,
      ctx.props.dataCapturePrefix,
      settings.string('endpointName'),
    ),
    version: sfn.JsonPath.format('{}', pkg.string('version')),
  };
  const name = new sfn.Pass(scope, 'Name resources', {
    comment: 'Model and endpoint config share one deterministic name: <endpoint>-<settings hash>-v<version>.',
    parameters: resourceNames,
    resultPath: names.root,
  });
  const noLongerApproved = new sfn.Succeed(scope, 'No longer approved', {
    comment: 'The package was rejected again before this execution ran; nothing to deploy.',
  });
  const notServable = recordFailure(scope, 'Package not servable', {
    step: 'Describe package',
    error: 'NoModelDataSource',
    cause:
      'the package container has no ModelDataSource (uncompressed S3 prefix); register it through the REGISTER state machine',
  });
  notServable.next(onFailure);
  describe.next(
    new sfn.Choice(scope, 'Still approved?')
      .when(sfn.Condition.not(sfn.Condition.stringEquals(pkg.path('status'), 'Approved')), noLongerApproved)
      .when(sfn.Condition.not(sfn.Condition.isPresent(pkg.at('container').path('ModelDataSource'))), notServable)
      .otherwise(name.next(next)),
  );
  return describe;
}

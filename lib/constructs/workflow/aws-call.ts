import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** What {@link awsCall} takes: the `CallAwsService` props, with the result discarded unless `resultPath` says. */
export interface AwsCallProps extends Partial<tasks.CallAwsServiceJsonPathProps> {
  readonly service: string;
  readonly action: string;
  readonly parameters: Record<string, unknown>;
  readonly iamResources: string[];
}

/** An `aws-sdk` task (JSONPath) whose result is discarded unless the props give a `resultPath`. */
export function awsCall(scope: Construct, id: string, props: AwsCallProps): tasks.CallAwsService {
  return tasks.CallAwsService.jsonPath(scope, id, { resultPath: sfn.JsonPath.DISCARD, ...props });
}

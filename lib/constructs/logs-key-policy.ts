import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Lets CloudWatch Logs of the key's own account and region encrypt log groups with a customer managed key (flow
 * logs, Lambda and CodeBuild logs), scoped by the log-group encryption context.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function allowCloudWatchLogs(key: kms.Key): void {
  const stack = cdk.Stack.of(key);
  const logsPrincipal = new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [logsPrincipal],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
      ],
      // in a key policy, "*" means this key.
      resources: ['*'],
      conditions: {
        StringLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsToDescribeKey',
      principals: [logsPrincipal],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
    }),
  );
}

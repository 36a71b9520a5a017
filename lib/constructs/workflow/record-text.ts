import * as cdk from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * A Pass that writes one sentence for a later notice, `{ <field>: text }` at `resultPath`: a fixed `Result`
 * for literal text, `Parameters` for a JsonPath token (`JsonPath.format(...)`).
 */
export function recordText(scope: Construct, id: string, resultPath: string, field: string, text: string): sfn.Pass {
  return cdk.Token.isUnresolved(text)
    ? new sfn.Pass(scope, id, { parameters: { [field]: text }, resultPath })
    : new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ [field]: text }), resultPath });
}

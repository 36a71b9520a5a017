import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { NamingContext } from '../../config/naming';
import type { ServingSettings } from '../serving-settings';

/** What the REGISTER and DEPLOY state machines both take. */
export interface ServingStageProps {
  /** Name prefix and stage: every resource the machine creates or touches starts with `<prefix>-<stage>-`. */
  readonly naming: NamingContext;
  /**
   * The per-recipe settings objects, read by pipeline or model package group name at run time; the machine
   * gets read access to them and waits for their deployment.
   */
  readonly settings: ServingSettings;
  /** Receives the machine's notices (and the alarms' actions). */
  readonly topic: sns.ITopic;
  /** Encrypts the execution log group. */
  readonly logKey: kms.IKey;
  /**
   * Where events that could not start an execution go (after EventBridge's retries).
   * @default - no dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The state machine's name.
   * @default `<prefix>-<stage>-register` or `<prefix>-<stage>-deploy`
   */
  readonly stateMachineName?: string;
}

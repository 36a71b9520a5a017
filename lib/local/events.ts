import { LOCAL_ACCOUNT, LOCAL_REGION } from './local-values';

/**
 * The EventBridge side of the local run: the `aws.sagemaker` events SageMaker sends (their documented shapes,
 * docs/local-fidelity.md §4) and the matching of an event against a rule's EventPattern, so that an event starts
 * exactly the state machines whose synthesized rules match it, as on AWS.
 */

type Obj = Record<string, unknown>;

const PIPELINE_EXECUTION_STATUS_CHANGE = 'SageMaker Model Building Pipeline Execution Status Change';
const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

function envelope(detailType: string, id: string, resources: string[], detail: Obj): Obj {
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.sagemaker',
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources,
    detail,
  };
}

/** The event SageMaker sends when a pipeline execution changes status. */
export function pipelineExecutionStatusEvent(execution: {
  readonly pipelineName: string;
  readonly executionId: string;
  readonly status: 'Succeeded' | 'Failed' | 'Executing' | 'Stopped';
  readonly startTime?: string;
  readonly endTime?: string;
}): Obj {
  const pipelineArn = `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:pipeline/${execution.pipelineName}`;
  const executionArn = `${pipelineArn}/execution/${execution.executionId}`;
  return envelope(PIPELINE_EXECUTION_STATUS_CHANGE, `evt-${execution.executionId}`, [pipelineArn, executionArn], {
    pipelineExecutionDisplayName: `execution-${execution.executionId}`,
    currentPipelineExecutionStatus: execution.status,
    previousPipelineExecutionStatus: 'Executing',
    executionStartTime: execution.startTime ?? '2026-11-27T09:00:00Z',
    executionEndTime: execution.endTime ?? '2026-11-27T12:00:00Z',
    pipelineArn,
    pipelineExecutionArn: executionArn,
  });
}

/** The event SageMaker sends when a model package version's approval status changes. */
export function modelPackageStateEvent(pkg: {
  readonly packageArn: string;
  readonly groupName: string;
  readonly version: number;
  readonly approvalStatus: string;
  readonly packageStatus?: string;
}): Obj {
  return envelope(MODEL_PACKAGE_STATE_CHANGE, `evt-${pkg.groupName}-${pkg.version}`, [pkg.packageArn], {
    ModelPackageGroupName: pkg.groupName,
    ModelPackageVersion: pkg.version,
    ModelPackageArn: pkg.packageArn,
    ModelApprovalStatus: pkg.approvalStatus,
    ModelPackageStatus: pkg.packageStatus ?? 'Completed',
    CreationTime: 1796032800000,
    LastModifiedTime: 1796036400000,
  });
}

/** One allowed value of a pattern field: a literal, or a content filter this project's rules use. */
function valueMatches(filter: unknown, value: unknown, where: string): boolean {
  if (filter === null || typeof filter !== 'object') return filter === value;
  const entries = Object.entries(filter as Obj);
  if (entries.length !== 1) throw new Error(`${where}: a content filter has one key, found ${JSON.stringify(filter)}`);
  const [op, arg] = entries[0];
  if (op === 'prefix' && typeof arg === 'string') return typeof value === 'string' && value.startsWith(arg);
  if (op === 'exists' && typeof arg === 'boolean') return (value !== undefined) === arg;
  if (op === 'anything-but' && Array.isArray(arg)) return value !== undefined && !arg.includes(value);
  throw new Error(`${where}: the content filter ${op} is not evaluated locally (docs/local-fidelity.md §4)`);
}

/**
 * Whether `event` matches an EventBridge `pattern`: every pattern key must match; an object recurses, an array
 * lists the allowed values (an event array matches when any element does).
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export function matchesEventPattern(pattern: Obj, event: Obj, where = 'EventPattern'): boolean {
  return Object.entries(pattern).every(([key, filter]) => {
    const value = event[key];
    const at = `${where}.${key}`;
    if (Array.isArray(filter)) {
      const values = Array.isArray(value) ? value : [value];
      return filter.some((f) =>
        f !== null && typeof f === 'object' && 'exists' in (f as Obj)
          ? valueMatches(f, value, at)
          : values.some((v) => valueMatches(f, v, at)),
      );
    }
    if (filter !== null && typeof filter === 'object') {
      return value !== null && typeof value === 'object' && matchesEventPattern(filter as Obj, value as Obj, at);
    }
    throw new Error(`${at}: a pattern value must be an array or an object, found ${JSON.stringify(filter)}`);
  });
}

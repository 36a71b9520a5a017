import * as http from 'node:http';
import { DescribeModelPackageCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Json } from '../pipeline/expressions';
import type { LocalEndpoints } from './endpoint-host';
import { modelPackageStateEvent } from './events';
import type { ExecutionResult, StepRecord } from './interpreter';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './local-values';
import { freePort } from './moto';

/**
 * The local AWS endpoint every client of `npm run local` talks to (the CLI, the state machines, the tests): a
 * loopback HTTP server in front of moto that passes every request through, except where this machine itself plays
 * SageMaker (docs/local-fidelity.md §4):
 * - ListPipelineExecutionSteps (moto has none) and DescribeTrainingJob (moto drops the Environment, the metrics and
 *   the uncompressed model location) answer from the pipeline executions the local interpreter ran;
 * - CreateEndpoint / DescribeEndpoint / DeleteEndpoint start, report and stop a local serving container
 *   (lib/local/endpoint-host.ts), and InvokeEndpoint reaches it;
 * - CreateModelPackage / UpdateModelPackage emit the "SageMaker Model Package State Change" event, as SageMaker
 *   does to EventBridge.
 */

type Obj = Record<string, unknown>;

export interface SageMakerFrontOptions {
  readonly motoEndpoint: string;
  readonly endpoints: LocalEndpoints;
  /** A client of moto itself, to read a package after it changed. */
  readonly sagemaker: SageMakerClient;
  /** Where SageMaker's events go (the local event bus). */
  readonly onEvent: (event: Obj) => void;
}

export interface SageMakerFront {
  readonly endpoint: string;
  /** Makes an execution's steps and training jobs known to ListPipelineExecutionSteps and DescribeTrainingJob. */
  recordExecution(result: ExecutionResult): void;
  stop(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body: Buffer;
}

const json = (status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

/** An error in the SageMaker API's JSON 1.1 form. */
const apiError = (status: number, type: string, message: string): Reply => json(status, { __type: type, message });

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends the request on to moto unchanged and returns its answer. */
function forward(moto: URL, req: http.IncomingMessage, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: moto.host, 'content-length': body.length };
    delete headers['transfer-encoding'];
    const out = http.request(
      { hostname: moto.hostname, port: moto.port, method: req.method, path: req.url, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const resHeaders = { ...res.headers };
          delete resHeaders['transfer-encoding'];
          delete resHeaders.connection;
          resolve({ status: res.statusCode ?? 500, headers: resHeaders, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

/** The JSON protocol sends timestamps as epoch seconds. */
const epochSeconds = (iso: unknown): number | undefined =>
  typeof iso === 'string' && !Number.isNaN(Date.parse(iso)) ? Date.parse(iso) / 1000 : undefined;

const trainingJobArn = (name: string): string =>
  `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:training-job/${name.toLowerCase()}`;

/** A step as ListPipelineExecutionSteps lists it, with the metadata of its type. */
function stepSummary(record: StepRecord, result: ExecutionResult): Obj {
  const props = (record.properties ?? {}) as { [key: string]: Json };
  const metadata: Obj = {};
  if (record.type === 'Training' && typeof props.TrainingJobName === 'string') {
    metadata.TrainingJob = { Arn: trainingJobArn(props.TrainingJobName) };
  } else if (record.type === 'Condition') {
    metadata.Condition = { Outcome: props.Outcome === true ? 'True' : 'False' };
  } else if (record.type === 'Fail') {
    metadata.Fail = { ErrorMessage: record.failureReason };
  } else if (record.type === 'Lambda') {
    const outputs = (props.OutputParameters ?? {}) as Obj;
    metadata.Lambda = { OutputParameters: Object.entries(outputs).map(([Name, v]) => ({ Name, Value: String(v) })) };
  }
  return {
    StepName: record.name,
    StartTime: epochSeconds(result.execution.StartDateTime),
    EndTime: epochSeconds(result.execution.CurrentDateTime),
    StepStatus: record.status === 'Succeeded' ? 'Succeeded' : 'Failed',
    ...(record.failureReason && record.type !== 'Fail' ? { FailureReason: record.failureReason } : {}),
    AttemptCount: record.attempts,
    Metadata: metadata,
  };
}

/** What SageMaker reports for a training job that moto only knows the request of. */
function trainingJobFacts(record: StepRecord): Obj {
  const job = (record.properties ?? {}) as Obj;
  const request = (record.request ?? {}) as Obj;
  return {
    TrainingJobStatus: job.TrainingJobStatus,
    SecondaryStatus: job.SecondaryStatus,
    ...(job.FailureReason ? { FailureReason: job.FailureReason } : {}),
    ModelArtifacts: job.ModelArtifacts,
    FinalMetricDataList: ((job.FinalMetricDataList ?? []) as Obj[]).map((m) => ({
      ...m,
      Timestamp: epochSeconds(m.Timestamp),
    })),
    Environment: request.Environment ?? {},
    HyperParameters: request.HyperParameters ?? {},
    TrainingTimeInSeconds: job.TrainingTimeInSeconds,
    BillableTimeInSeconds: job.BillableTimeInSeconds,
  };
}

/** Starts the front on a free loopback port. */
export async function startSageMakerFront(options: SageMakerFrontOptions): Promise<SageMakerFront> {
  const moto = new URL(options.motoEndpoint);
  const executions = new Map<string, ExecutionResult>();
  const trainingJobs = new Map<string, StepRecord>();
  const { endpoints } = options;

  const emitPackageState = async (packageArn: string): Promise<void> => {
    const pkg = await options.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn }));
    options.onEvent(
      modelPackageStateEvent({
        packageArn,
        groupName: pkg.ModelPackageGroupName ?? '',
        version: pkg.ModelPackageVersion ?? 0,
        approvalStatus: pkg.ModelApprovalStatus ?? '',
        packageStatus: pkg.ModelPackageStatus,
      }),
    );
  };

  const sageMaker = async (operation: string, req: http.IncomingMessage, body: Buffer): Promise<Reply> => {
    const input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as Obj;
    if (operation === 'ListPipelineExecutionSteps') {
      const arn = String(input.PipelineExecutionArn);
      const result = executions.get(arn);
      if (!result) return apiError(400, 'ResourceNotFound', `Pipeline execution ${arn} does not exist.`);
      const ran = result.steps.filter((s) => s.status !== 'Skipped').map((s) => stepSummary(s, result));
      return json(200, { PipelineExecutionSteps: input.SortOrder === 'Ascending' ? ran : ran.reverse() });
    }
    if (operation === 'DescribeTrainingJob') {
      // the name in a job's ARN is lower-cased; SageMaker finds the job by it, moto only by the exact name.
      const record = trainingJobs.get(String(input.TrainingJobName).toLowerCase());
      if (!record) return forward(moto, req, body);
      const job = (record.properties ?? {}) as Obj;
      const exact = Buffer.from(JSON.stringify({ ...input, TrainingJobName: job.TrainingJobName }));
      const reply = await forward(moto, req, exact);
      if (reply.status !== 200) return reply;
      return json(200, { ...(JSON.parse(reply.body.toString('utf8')) as Obj), ...trainingJobFacts(record) });
    }
    const reply = await forward(moto, req, body);
    if (reply.status !== 200) return reply;
    if (operation === 'CreateEndpoint') {
      endpoints.create(String(input.EndpointName), String(input.EndpointConfigName));
    } else if (operation === 'DescribeEndpoint') {
      const hosted = endpoints.status(String(input.EndpointName));
      if (hosted) {
        const described = JSON.parse(reply.body.toString('utf8')) as Obj;
        return json(200, {
          ...described,
          EndpointStatus: hosted.status,
          ...(hosted.failureReason ? { FailureReason: hosted.failureReason } : {}),
        });
      }
    } else if (operation === 'DeleteEndpoint') {
      await endpoints.delete(String(input.EndpointName));
    } else if (operation === 'CreateModelPackage') {
      const { ModelPackageArn } = JSON.parse(reply.body.toString('utf8')) as { ModelPackageArn?: string };
      if (ModelPackageArn && input.ModelPackageGroupName) await emitPackageState(ModelPackageArn);
    } else if (operation === 'UpdateModelPackage' && input.ModelApprovalStatus) {
      await emitPackageState(String(input.ModelPackageArn));
    }
    return reply;
  };

  /** InvokeEndpoint: the container's answer, or the runtime's errors. */
  const invoke = async (name: string, req: http.IncomingMessage, body: Buffer): Promise<Reply> => {
    const hosted = endpoints.status(name);
    if (!hosted) {
      return apiError(400, 'ValidationError', `Endpoint ${name} of account ${LOCAL_ACCOUNT} not found.`);
    }
    if (hosted.status !== 'InService') {
      return apiError(400, 'ValidationError', `Endpoint ${name} of account ${LOCAL_ACCOUNT} is ${hosted.status}.`);
    }
    const answer = await endpoints.invoke(name, body, req.headers['content-type']);
    if (answer.status >= 200 && answer.status < 300) {
      return {
        status: 200,
        headers: { 'content-type': answer.contentType, 'x-amzn-invoked-production-variant': 'AllTraffic' },
        body: answer.body,
      };
    }
    // the runtime wraps a container's error answer in a ModelError (HTTP 424).
    const text = answer.body.toString('utf8');
    const kind = answer.status < 500 ? 'client' : 'server';
    return json(
      424,
      {
        ErrorCode: `${kind.toUpperCase()}_ERROR_FROM_MODEL`,
        Message: `Received ${kind} error (${answer.status}) from primary with message "${text}".`,
        OriginalMessage: text,
        OriginalStatusCode: answer.status,
      },
      { 'x-amzn-errortype': 'ModelError' },
    );
  };

  const handle = async (req: http.IncomingMessage): Promise<Reply> => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('SageMaker.')) return sageMaker(target.slice('SageMaker.'.length), req, body);
    const invocation = /^\/endpoints\/([^/?]+)\/invocations(\?|$)/.exec(req.url ?? '');
    const scope = String(req.headers.authorization ?? '');
    if (req.method === 'POST' && invocation && scope.includes('/sagemaker/aws4_request')) {
      return invoke(decodeURIComponent(invocation[1]), req, body);
    }
    return forward(moto, req, body);
  };

  const server = http.createServer((req, res) => {
    handle(req)
      .then((reply) => {
        res.writeHead(reply.status, { ...reply.headers, 'content-length': reply.body.length });
        res.end(reply.body);
      })
      .catch((e: unknown) => {
        const reply = apiError(500, 'InternalFailure', `local front: ${e instanceof Error ? e.message : String(e)}`);
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
      });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    recordExecution(result) {
      executions.set(result.execution.PipelineExecutionArn, result);
      for (const step of result.steps) {
        const name = (step.properties as Obj | undefined)?.TrainingJobName;
        if (step.type === 'Training' && typeof name === 'string') trainingJobs.set(name.toLowerCase(), step);
      }
    },
    async stop() {
      await endpoints.stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

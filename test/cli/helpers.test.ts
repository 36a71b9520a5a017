import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListPipelinesCommand } from '@aws-sdk/client-sagemaker';
import { appendApprovalNote } from '../../lib/cli/approval';
import { AwsClients } from '../../lib/cli/aws-clients';
import { parsePositiveNumber } from '../../lib/cli/command';
import { buildChatRequest, parseChatResponse } from '../../lib/cli/commands/chat';
import { buildOverrides } from '../../lib/cli/commands/run';
import { awsCall, CliError, isNotFound, isNotImplemented, translateAwsError } from '../../lib/cli/errors';
import { metricsFromJson } from '../../lib/cli/model-packages';
import { formatBytes, formatDuration, formatTable, Output, ProgressBar } from '../../lib/cli/output';
import {
  defaultDatasetUri,
  findParameter,
  OVERRIDABLE,
  parameterType,
  type PipelineParameter,
} from '../../lib/cli/pipelines';
import { parseS3Uri, partSizeFor } from '../../lib/cli/s3';
import { PIPELINE_PARAMETER_TYPES, PIPELINE_PARAMETERS } from '../../lib/pipeline';
import { INSTANCE_CATALOG } from '../../lib/recipes/instance-catalog';

const awsError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 }, ...extra });

describe('AWS error translation', () => {
  test('access denied names the permission to grant', async () => {
    const e = await translateAwsError(
      awsError(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: sagemaker:StartPipelineExecution',
      ),
      { action: 'sagemaker:StartPipelineExecution', resource: 'pipeline gptoss-dev-a' },
    );
    expect(e.message).toMatch(
      /^access denied: your AWS identity may not call sagemaker:StartPipelineExecution on pipeline gptoss-dev-a \(AWS said: User: .*\); ask a platform admin to grant sagemaker:StartPipelineExecution to your role/,
    );
  });

  test('access denied on a KMS-encrypted bucket also names the key permissions', async () => {
    const e = await translateAwsError(awsError('AccessDenied', 'not authorized to perform kms:GenerateDataKey'), {
      action: 's3:PutObject',
    });
    expect(e.message).toContain('kms:GenerateDataKey/kms:Decrypt on the platform KMS key');
  });

  test('throttling that outlasted the adaptive retries says so', async () => {
    const e = await translateAwsError(
      awsError('ThrottlingException', 'Rate exceeded', { $metadata: { attempts: 8 } }),
      {
        action: 'sagemaker:ListPipelines',
      },
    );
    expect(e.message).toBe(
      'AWS kept throttling sagemaker:ListPipelines after 8 attempts with adaptive back-off; wait a minute and run the command again, or raise --max-attempts',
    );
  });

  test('not found uses the caller sentence, or a generic one', async () => {
    const notFound = awsError('ValidationException', 'Could not find pipeline with PipelineName x.');
    expect(isNotFound(notFound)).toBe(true);
    expect(isNotFound(awsError('ValidationException', 'Value x failed to satisfy constraint'))).toBe(false);
    expect((await translateAwsError(notFound, { action: 'a', onNotFound: () => 'unknown recipe "x"' })).message).toBe(
      'unknown recipe "x"',
    );
    expect(
      (await translateAwsError(awsError('NoSuchBucket', 'gone'), { action: 's3:PutObject', resource: 'b' })).message,
    ).toBe('b does not exist (s3:PutObject: gone); check the name and the region');
  });

  test('missing credentials, region and endpoint each get their fix', async () => {
    const creds = await translateAwsError(
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      {
        action: 'sagemaker:ListPipelines',
      },
    );
    expect(creds.message).toMatch(/^no AWS credentials were found .*"aws sso login"/);
    expect((await translateAwsError(new Error('Region is missing'), { action: 'x' })).message).toMatch(
      /^no AWS region is set; pass --region/,
    );
    const conn = await translateAwsError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      {
        action: 'sagemaker:ListPipelines',
        endpointUrl: 'http://127.0.0.1:9',
      },
    );
    expect(conn.message).toMatch(
      /^could not reach the AWS endpoint at http:\/\/127\.0\.0\.1:9 for sagemaker:ListPipelines/,
    );
    expect((await translateAwsError(awsError('InternalFailure', 'boom'), { action: 'x:Y' })).message).toBe(
      'x:Y failed: InternalFailure: boom',
    );
  });

  test('recognises an operation the endpoint does not implement', () => {
    const html500 = Object.assign(
      new SyntaxError("Unexpected token '<'\n  Deserialization error: to see the raw response..."),
      {
        $metadata: { httpStatusCode: 500 },
      },
    );
    expect(isNotImplemented(html500)).toBe(true);
    expect(isNotImplemented(awsError('UnknownOperationException', ''))).toBe(true);
    expect(isNotImplemented(awsError('InternalServerError', 'x', { $metadata: { httpStatusCode: 500 } }))).toBe(false);
  });
});

describe('throttling is retried by the SDK adaptive retry mode', () => {
  let server: http.Server;
  let endpoint: string;
  let throttleFirst = 0;
  let calls = 0;

  beforeAll(async () => {
    // dummy credentials from the environment, as the SDK's default chain reads them.
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    // a SageMaker-shaped JSON endpoint that throttles the first N calls.
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls += 1;
        if (calls <= throttleFirst) {
          res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ PipelineSummaries: [{ PipelineName: 'gptoss-dev-a' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const call = (aws: AwsClients) =>
    awsCall({ action: 'sagemaker:ListPipelines', endpointUrl: endpoint }, () =>
      aws.sagemaker.send(new ListPipelinesCommand({})),
    );

  test('succeeds after two throttled attempts', async () => {
    // GIVEN an endpoint that throttles twice
    throttleFirst = 2;
    calls = 0;
    const aws = new AwsClients({ endpointUrl: endpoint, region: 'us-east-1', maxAttempts: 3 });
    try {
      // WHEN one call is made THEN the SDK retries and it succeeds on the third attempt
      const out = await call(aws);
      expect(out.PipelineSummaries).toEqual([{ PipelineName: 'gptoss-dev-a' }]);
      expect(out.$metadata.attempts).toBe(3);
      expect(calls).toBe(3);
    } finally {
      aws.destroy();
    }
  });

  test('fails with the throttling sentence when retries run out', async () => {
    throttleFirst = 100;
    calls = 0;
    const aws = new AwsClients({ endpointUrl: endpoint, region: 'us-east-1', maxAttempts: 2 });
    try {
      await expect(call(aws)).rejects.toThrow(
        new CliError(
          'AWS kept throttling sagemaker:ListPipelines after 2 attempts with adaptive back-off; wait a minute and run the command again, or raise --max-attempts',
        ),
      );
      expect(calls).toBe(2);
    } finally {
      aws.destroy();
    }
  });
});

describe('chat request and response', () => {
  test('puts the reasoning language first in the system turn, as the training data does', () => {
    expect(
      buildChatRequest([{ role: 'user', content: 'Hi' }], {
        reasoningLanguage: 'French',
        system: 'Be brief.',
        reasoningEffort: 'low',
        temperature: 0.2,
      }),
    ).toEqual({
      messages: [
        { role: 'system', content: 'reasoning language: French\n\nBe brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 1024,
      temperature: 0.2,
      reasoning_effort: 'low',
    });
    expect(buildChatRequest([{ role: 'user', content: 'Hi' }], {}).messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  test.each([
    [
      'vLLM reasoning_content',
      { choices: [{ message: { content: 'A', reasoning_content: 'R' } }] },
      { reasoning: 'R', answer: 'A' },
    ],
    ['vLLM reasoning', { choices: [{ message: { content: 'A', reasoning: 'R' } }] }, { reasoning: 'R', answer: 'A' }],
    [
      'harmony text in content',
      {
        choices: [
          {
            message: {
              content:
                '<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>done<|return|>',
            },
          },
        ],
      },
      { reasoning: 'think', answer: 'done' },
    ],
    ['analysis/final fields', { analysis: 'R', final: 'A' }, { reasoning: 'R', answer: 'A' }],
    ['text generation', [{ generated_text: 'plain' }], { answer: 'plain' }],
    ['no reasoning', { choices: [{ message: { content: 'only' } }] }, { answer: 'only' }],
  ])('parses %s', (_name, body, expected) => {
    expect(parseChatResponse(JSON.stringify(body))).toMatchObject(expected);
  });

  test('fails on a response shape it does not know', () => {
    expect(() => parseChatResponse('{"foo": 1}')).toThrow(/does not recognise \(keys: foo\); rerun with --raw/);
  });
});

describe('number options', () => {
  test('--epochs takes fractions above 0 (NumTrainEpochs is a Float parameter)', () => {
    expect(parsePositiveNumber('0.5')).toBe(0.5);
    expect(parsePositiveNumber('3')).toBe(3);
    for (const bad of ['0', '-1', 'abc', '', ' ', 'Infinity']) {
      expect(() => parsePositiveNumber(bad)).toThrow(/expected a number above 0, found/);
    }
  });
});

describe('run overrides', () => {
  const P = PIPELINE_PARAMETERS;
  const pipeline = {
    pipelineName: 'gptoss-dev-a',
    parameters: [
      { Name: P.instanceType, Type: 'String', DefaultValue: 'ml.p5.48xlarge' },
      { Name: P.instanceCount, Type: 'Integer', DefaultValue: 1 },
      { Name: P.datasetS3Uri, Type: 'String', DefaultValue: 's3://b/datasets/a/' },
      { Name: P.useSpot, Type: 'Boolean', DefaultValue: false },
      { Name: P.maxSteps, Type: 'Integer', DefaultValue: -1 },
      { Name: 'LearningRate', Type: 'Float', DefaultValue: 0.0002 },
    ] satisfies PipelineParameter[],
  };

  test("maps flags onto the builder's parameter names, never onto look-alikes", () => {
    expect(findParameter(pipeline.parameters, 'dataset')?.Name).toBe('DatasetS3Uri');
    expect(findParameter(pipeline.parameters, 'spot')?.Name).toBe('UseSpot');
    expect(defaultDatasetUri(pipeline.parameters)).toBe('s3://b/datasets/a/');
    expect(buildOverrides(pipeline, { spot: false, maxSteps: 5, params: ['LearningRate=1e-4'] })).toEqual([
      { Name: 'UseSpot', Value: 'false' },
      { Name: 'MaxSteps', Value: '5' },
      { Name: 'LearningRate', Value: '1e-4' },
    ]);
    // a parameter named like a flag but not the contract's name is not taken for it
    const lookAlike = [{ Name: 'TrainingDataS3Uri', Type: 'String', DefaultValue: 's3://b/x/' }];
    expect(findParameter(lookAlike, 'dataset')).toBeUndefined();
  });

  test('every flag names a parameter of the contract, with its declared type', () => {
    for (const [kind, flag] of Object.entries(OVERRIDABLE)) {
      expect(Object.keys(PIPELINE_PARAMETERS)).toContain(flag.parameter);
      expect(parameterType(kind as keyof typeof OVERRIDABLE)).toBe(PIPELINE_PARAMETER_TYPES[flag.parameter]);
    }
    // NumTrainEpochs is a Float: fractional epochs pass, words do not
    const epochs = { pipelineName: 'p', parameters: [{ Name: P.numTrainEpochs, Type: 'Float', DefaultValue: 1 }] };
    expect(buildOverrides(epochs, { params: ['NumTrainEpochs=0.5'] })).toEqual([
      { Name: 'NumTrainEpochs', Value: '0.5' },
    ]);
    expect(buildOverrides(epochs, { epochs: 1.5 })).toEqual([{ Name: 'NumTrainEpochs', Value: '1.5' }]);
  });

  test('accepts every instance type of the catalog', () => {
    const withType = { pipelineName: 'p', parameters: [{ Name: P.instanceType, Type: 'String', DefaultValue: 'x' }] };
    expect(Object.keys(INSTANCE_CATALOG)).toContain('ml.p6-b200.48xlarge');
    for (const instanceType of Object.keys(INSTANCE_CATALOG)) {
      expect(buildOverrides(withType, { instanceType })).toEqual([{ Name: P.instanceType, Value: instanceType }]);
    }
  });

  test('warns about an instance type outside the catalog and fails on a malformed one', () => {
    const warnings: string[] = [];
    buildOverrides(pipeline, { instanceType: 'ml.zz9.48xlarge' }, (w) => warnings.push(w));
    expect(warnings).toEqual([
      "ml.zz9.48xlarge is not in the platform's instance catalog; check the name and its quota",
    ]);
    expect(() => buildOverrides(pipeline, { instanceType: 'p5.48xlarge' })).toThrow(
      /expected a SageMaker type like "ml\.p5\.48xlarge"/,
    );
  });

  test.each([
    [{ epochs: 2 }, /has no parameter for --epochs \(its parameters: TrainingInstanceType, /],
    [{ params: ['LearningRate=fast'] }, /LearningRate is a Float; found "fast"/],
    [{ params: ['UseSpot=yes'] }, /is a Boolean; write true or false, found "yes"/],
    [
      { baseModelS3Uri: 'openai/gpt-oss-20b' },
      /--base-model-s3-uri: found "openai\/gpt-oss-20b"; expected an S3 prefix/,
    ],
    [{ params: ['Nope=1'] }, /has no parameter "Nope"/],
    [{ params: ['novalue'] }, /--param: found "novalue"; write Name=Value/],
    [{ dataset: 'datasets/a' }, /--dataset: found "datasets\/a"; expected an S3 URI/],
  ])('fails on %j', (opts, expected) => {
    expect(() => buildOverrides(pipeline, opts)).toThrow(expected);
  });
});

describe('output and small helpers', () => {
  test('formats durations, sizes and tables', () => {
    expect(formatDuration(3_723_000)).toBe('1h 02m 03s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatBytes(17 * 1024 * 1024)).toBe('17.0 MiB');
    expect(formatBytes(3.2 * 1024 ** 3)).toBe('3.20 GiB');
    expect(formatTable(['A', 'BB'], [['xxx', 'y']])).toEqual(['A    BB', 'xxx  y']);
  });

  test('the progress bar prints every quarter when not on a terminal', () => {
    let text = '';
    const sink = { write: (s: string) => (text += s), isTTY: false };
    const bar = new ProgressBar(new Output({ stdout: sink, stderr: sink }), 'up', 100, 4);
    for (const n of [10, 20, 30, 60, 99]) bar.update(n);
    bar.finish();
    expect(text.split('\n').filter(Boolean)).toEqual([
      'up [....]  10% 10 B / 100 B',
      'up [#...]  30% 30 B / 100 B',
      'up [##..]  60% 60 B / 100 B',
      'up [####]  99% 99 B / 100 B',
      'up [####] 100% 100 B / 100 B',
    ]);
  });

  test('parses S3 URIs and sizes multipart parts', () => {
    expect(parseS3Uri('s3://my-bucket/datasets/a/')).toEqual({ bucket: 'my-bucket', key: 'datasets/a/' });
    expect(() => parseS3Uri('https://x')).toThrow(/is not an S3 URI; write it as s3:\/\/bucket\/prefix\//);
    expect(partSizeFor(1024)).toBe(16 * 1024 * 1024);
    expect(partSizeFor(500 * 1024 ** 3)).toBeGreaterThan((500 * 1024 ** 3) / 10_000);
  });

  test('reads metrics from flat and SageMaker statistics JSON', () => {
    expect(metricsFromJson({ eval_loss: 1.2, note: 'x', regression_metrics: { mse: { value: 0.5 } } })).toEqual({
      eval_loss: 1.2,
      'regression_metrics.mse': 0.5,
    });
  });
});

describe('appendApprovalNote', () => {
  test('appends to the earlier notes', () => {
    expect(appendApprovalNote(undefined, 'Approved by arn:x: ok')).toBe('Approved by arn:x: ok');
    expect(appendApprovalNote('Rejected by arn:y: no\n', 'Approved by arn:x: ok')).toBe(
      'Rejected by arn:y: no\nApproved by arn:x: ok',
    );
  });

  test("drops the oldest notes first when the history exceeds SageMaker's 1024 characters", () => {
    const old = Array.from({ length: 30 }, (_, i) => `note ${String(i).padStart(2, '0')} ${'x'.repeat(40)}`);
    const result = appendApprovalNote(old.join('\n'), 'Approved by arn:x: newest');
    expect(result.length).toBeLessThanOrEqual(1024);
    const lines = result.split('\n');
    expect(lines[0]).toBe('[earlier notes truncated]');
    expect(lines.at(-1)).toBe('Approved by arn:x: newest');
    expect(lines.at(-2)).toBe(old.at(-1));
    expect(lines).not.toContain(old[0]);
  });
});

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecipePipeline } from '../../lib/cli/pipelines';
import { checkTrainingQuota, effectiveCapacity, trainingQuotaName } from '../../lib/cli/quota';
import { makeProject, motoContext } from './support';

/**
 * `run`'s quota check against a local HTTP endpoint that answers Service Quotas' JSON protocol (moto 5
 * implements no SageMaker quotas). The endpoint records the requests, so the test also sees what was asked.
 */

const PIPELINE: RecipePipeline = {
  recipe: 'demo-lora',
  pipelineName: 'gptoss-test-demo-lora',
  pipelineArn: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/gptoss-test-demo-lora',
  parameters: [
    { Name: 'TrainingInstanceType', Type: 'String', DefaultValue: 'ml.p5.48xlarge' },
    { Name: 'TrainingInstanceCount', Type: 'Integer', DefaultValue: 1 },
    { Name: 'UseSpot', Type: 'Boolean', DefaultValue: false },
  ],
};

let server: http.Server;
let endpoint: string;
let answer: { status: number; body: unknown };
let requests: { target: string; body: Record<string, unknown> }[];
const project = makeProject();

beforeAll(async () => {
  // fake credentials for the SDK's signer; the local endpoint ignores them.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(answer.status, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  requests = [];
});

const quota = (name: string, value: number) => ({ QuotaName: name, QuotaCode: 'L-1234ABCD', Value: value });

test('names the quotas as Service Quotas does', () => {
  expect(trainingQuotaName('ml.p5.48xlarge', false)).toBe('ml.p5.48xlarge for training job usage');
  expect(trainingQuotaName('ml.g6e.12xlarge', true)).toBe('ml.g6e.12xlarge for spot training job usage');
});

test('the capacity is the overrides over the pipeline defaults', () => {
  expect(effectiveCapacity(PIPELINE, [])).toEqual({ instanceType: 'ml.p5.48xlarge', instanceCount: 1, spot: false });
  expect(
    effectiveCapacity(PIPELINE, [
      { Name: 'TrainingInstanceCount', Value: '4' },
      { Name: 'UseSpot', Value: 'true' },
    ]),
  ).toEqual({ instanceType: 'ml.p5.48xlarge', instanceCount: 4, spot: true });
});

test('refuses a count above the quota, with the request command', async () => {
  // GIVEN a quota of 2 ml.p5.48xlarge for spot training (among others)
  answer = {
    status: 200,
    body: {
      Quotas: [
        quota('ml.p5.48xlarge for training job usage', 8),
        quota('ml.p5.48xlarge for spot training job usage', 2),
      ],
    },
  };
  const { ctx } = motoContext(project, endpoint);
  // WHEN a spot run asks for 4
  const overrides = [
    { Name: 'TrainingInstanceCount', Value: '4' },
    { Name: 'UseSpot', Value: 'true' },
  ];
  // THEN it is refused, naming the quota, its value, and how to request more
  await expect(checkTrainingQuota(ctx, PIPELINE, overrides)).rejects.toThrow(
    `the account's quota "ml.p5.48xlarge for spot training job usage" in us-east-1 is 2, but this run needs 4 ` +
      'instance(s); nothing was started. Request more with: aws service-quotas request-service-quota-increase ' +
      '--region us-east-1 --service-code sagemaker --quota-code L-1234ABCD --desired-value 4',
  );
  expect(requests).toEqual([
    { target: 'ServiceQuotasV20190624.ListServiceQuotas', body: { ServiceCode: 'sagemaker' } },
  ]);
  ctx.close();
});

test('lets a run within the quota go ahead', async () => {
  answer = { status: 200, body: { Quotas: [quota('ml.p5.48xlarge for training job usage', 2)] } };
  const { ctx, env } = motoContext(project, endpoint);
  await checkTrainingQuota(ctx, PIPELINE, [{ Name: 'TrainingInstanceCount', Value: '2' }]);
  expect(env.stderrText).toBe('');
  ctx.close();
});

test('refuses an instance type with no quota in the region (SageMaker does not offer it there)', async () => {
  answer = { status: 200, body: { Quotas: [quota('ml.g5.2xlarge for training job usage', 2)] } };
  const { ctx } = motoContext(project, endpoint);
  await expect(checkTrainingQuota(ctx, PIPELINE, [])).rejects.toThrow(
    /lists no quota "ml\.p5\.48xlarge for training job usage" in us-east-1/,
  );
  ctx.close();
});

test('warns and goes ahead when the quotas cannot be read', async () => {
  answer = { status: 400, body: { __type: 'AccessDeniedException', message: 'not authorized' } };
  const { ctx, env } = motoContext(project, endpoint);
  await checkTrainingQuota(ctx, PIPELINE, []);
  expect(env.stderrText).toMatch(/could not read the quota "ml\.p5\.48xlarge for training job usage" \(AccessDenied/);
  ctx.close();
});

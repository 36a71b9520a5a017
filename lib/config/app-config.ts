import { z } from 'zod';
import { deliveryConfigSchema } from './delivery-config';

/**
 * The deployment's config: everything that varies between one platform install and another.
 * This schema is the single source of truth: defaults live here, types come from `z.infer`, and the
 * README's config reference mirrors the `.describe()` texts.
 */

const studioUserName = z
  .string()
  .regex(
    /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/,
    'expected a Studio user profile name: letters, digits and inner hyphens, at most 63',
  );

export const studioUserSchema = z
  .object({
    name: studioUserName.describe('user profile name shown in the Studio console'),
  })
  .strict();

export const vpcConfigSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      cidr: z
        .string()
        .regex(
          /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/,
          'expected an IPv4 CIDR between /16 and /24, e.g. "10.40.0.0/16"',
        )
        .default('10.40.0.0/16')
        .describe('CIDR of the new VPC'),
      maxAzs: z
        .number()
        .int()
        .min(2, 'VPC-only Studio needs subnets in at least two AZs; use 2 or more')
        .max(6)
        .default(2),
      natGateways: z
        .number()
        .int()
        .min(0)
        .max(6)
        .default(0)
        .describe(
          'NAT gateways (and public subnets) giving the private subnets internet egress; 0 keeps the VPC without ' +
            'internet, so jobs read base models only from S3 (stage-model). 1 or more lets jobs download ' +
            'model_name_or_path from the Hugging Face Hub, at the NAT cost (see the README)',
        ),
    })
    .strict()
    .refine((v) => v.natGateways <= v.maxAzs, {
      message: 'natGateways is at most one per AZ; write a number up to maxAzs',
      path: ['natGateways'],
    }),
  z
    .object({
      mode: z.literal('import'),
      vpcId: z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, 'expected a VPC id like "vpc-0123456789abcdef0"'),
      privateSubnetIds: z
        .array(
          z
            .string()
            .regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, 'expected a subnet id like "subnet-0123456789abcdef0"'),
        )
        .min(2, 'list at least two private subnets in different AZs'),
      availabilityZones: z
        .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'expected an AZ name like "us-east-1a"'))
        .min(2),
      vpcCidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'expected an IPv4 CIDR like "10.0.0.0/16"'),
      privateRouteTableIds: z
        .array(
          z.string().regex(/^rtb-[0-9a-f]{8}([0-9a-f]{9})?$/, 'expected a route table id like "rtb-0123456789abcdef0"'),
        )
        .optional()
        .describe(
          'route tables of privateSubnetIds; the S3 gateway endpoint is added to them (omit if the VPC has one)',
        ),
      createEndpoints: z
        .boolean()
        .default(true)
        .describe('create the VPC endpoints Studio and training need; false when the VPC already has them'),
      internetEgress: z
        .boolean()
        .default(false)
        .describe(
          'the private subnets route to the internet (NAT); true lets jobs download model_name_or_path from the ' +
            'Hugging Face Hub instead of reading it from S3',
        ),
    })
    .strict()
    .refine((v) => v.privateSubnetIds.length === v.availabilityZones.length, {
      message: 'privateSubnetIds and availabilityZones must list the same number of entries, in the same order',
      path: ['availabilityZones'],
    })
    .refine(
      (v) => v.privateRouteTableIds === undefined || v.privateRouteTableIds.length === v.privateSubnetIds.length,
      {
        message: 'privateRouteTableIds must list one route table per private subnet, in the same order',
        path: ['privateRouteTableIds'],
      },
    ),
]);

export const mlflowConfigSchema = z
  .object({
    kind: z
      .enum(['tracking-server', 'serverless-app'])
      .default('tracking-server')
      .describe('managed MLflow tracking server (billed per hour) or the serverless MLflow App'),
    size: z.enum(['Small', 'Medium', 'Large']).default('Small').describe('tracking server size'),
    automaticModelRegistration: z.boolean().default(false),
    weeklyMaintenanceWindowStart: z
      .string()
      .regex(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$/, 'expected "Ddd:HH:MM", e.g. "Sun:03:00"')
      .default('Sun:03:00'),
  })
  .strict();

/**
 * Ceilings every execution of this stage's pipelines is checked against (the recipe check, `run` and the
 * pipeline's first step: lib/recipes/execute-check.ts), and the extra registries custom images may come from.
 */
export const guardrailsSchema = z
  .object({
    maxInstanceCount: z.number().int().min(1).max(100).default(4).describe('most training instances per job'),
    maxRuntimeSeconds: z
      .number()
      .int()
      .min(3600)
      .max(2419200)
      .default(259200)
      .describe('longest training job, seconds (SageMaker allows up to 28 days)'),
    trustedImageAccounts: z
      .array(z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'))
      .default([])
      .describe('ECR registries (account ids) custom images may come from, besides this account and the AWS DLCs'),
  })
  .strict();

export type Guardrails = z.infer<typeof guardrailsSchema>;

/** The guardrails of a config that sets none. */
export const DEFAULT_GUARDRAILS: Guardrails = guardrailsSchema.parse({});

export const appConfigSchema = z
  .object({
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,19}$/, 'expected 2-20 lowercase letters, digits or hyphens, starting with a letter')
      .default('gptoss')
      .describe('prefix of every stack and resource name'),
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,9}$/, 'expected 1-10 lowercase letters or digits, e.g. "dev" or "prod"')
      .default('dev'),
    account: z
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected a region name like "us-east-1"')
      .optional(),
    vpc: vpcConfigSchema.default({ mode: 'create', cidr: '10.40.0.0/16', maxAzs: 2, natGateways: 0 }),
    studio: z
      .object({
        users: z.array(studioUserSchema).default([]),
        idleTimeoutMinutes: z.number().int().min(60).max(525600).default(60),
        defaultEbsSizeGb: z.number().int().min(5).max(16384).default(5),
        maximumEbsSizeGb: z.number().int().min(5).max(16384).default(100),
      })
      .strict()
      .refine((s) => s.defaultEbsSizeGb <= s.maximumEbsSizeGb, {
        message: 'defaultEbsSizeGb must not exceed maximumEbsSizeGb',
        path: ['defaultEbsSizeGb'],
      })
      .refine((s) => new Set(s.users.map((u) => u.name)).size === s.users.length, {
        message: 'user names must be unique',
        path: ['users'],
      })
      .default({ users: [], idleTimeoutMinutes: 60, defaultEbsSizeGb: 5, maximumEbsSizeGb: 100 }),
    mlflow: mlflowConfigSchema.default({
      kind: 'tracking-server',
      size: 'Small',
      automaticModelRegistration: false,
      weeklyMaintenanceWindowStart: 'Sun:03:00',
    }),
    notificationEmail: z.email('expected an email address like "ml-team@example.com"').optional(),
    defaultApprovalMode: z.enum(['manual', 'auto']).default('manual'),
    approvers: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/,
            'expected an IAM role, user or account root ARN like "arn:aws:iam::123456789012:role/ml-leads"',
          ),
      )
      .default([])
      .describe('principals that may assume the approver role; default: principals of this account allowed to'),
    allowAutoApproval: z
      .boolean()
      .optional()
      .describe('whether recipes may register models as Approved (approval: auto); default: only in stage "dev"'),
    prices: z
      .record(
        z
          .string()
          .regex(/^ml\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$/, 'expected a SageMaker instance type like "ml.p5.48xlarge"'),
        z.number().positive('expected a positive USD price per hour'),
      )
      .default({})
      .describe('USD per instance-hour, overriding the built-in indicative prices'),
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
    guardrails: guardrailsSchema.default(DEFAULT_GUARDRAILS),
    budget: z
      .object({
        monthlyUsd: z.number().positive('expected a positive monthly amount in USD'),
        alertPercents: z
          .array(z.number().int().min(1).max(1000))
          .min(1)
          .default([80, 100])
          .describe('percentages of monthlyUsd at which actual spend notifies the topic'),
      })
      .strict()
      .optional()
      .describe("this stage's monthly AWS Budget on its cost-allocation tags, alerting the notifications topic"),
    delivery: deliveryConfigSchema
      .optional()
      .describe('a delivery pipeline that deploys the stages in order (lib/config/delivery-config.ts)'),
  })
  .strict()
  .refine((c) => c.defaultApprovalMode !== 'auto' || autoApprovalAllowed(c), {
    message: 'this stage does not allow auto-approval; write "manual", or set "allowAutoApproval": true for this stage',
    path: ['defaultApprovalMode'],
  });

export type AppConfig = z.infer<typeof appConfigSchema>;

/**
 * Whether models of this stage may skip human approval (`approval: auto`): as configured, else only in the
 * stage named "dev", so a production stage needs a person (the platform's approver role) by default.
 */
export function autoApprovalAllowed(config: { readonly stage: string; readonly allowAutoApproval?: boolean }): boolean {
  return config.allowAutoApproval ?? config.stage === 'dev';
}
export type VpcConfig = z.infer<typeof vpcConfigSchema>;

/** Whether the platform's private subnets reach the internet (NAT), so that jobs may read the Hugging Face Hub. */
export function hasInternetEgress(vpc: VpcConfig): boolean {
  return vpc.mode === 'create' ? vpc.natGateways > 0 : vpc.internetEgress;
}
export type MlflowConfig = z.infer<typeof mlflowConfigSchema>;

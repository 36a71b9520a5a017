import { z } from 'zod';

/**
 * The `delivery:` config block: a CDK Pipelines delivery pipeline that deploys the platform stage by stage
 * (lib/stacks/delivery-stack.ts). Only the delivery config (usually `stages/delivery.yaml`) holds it; each
 * stage's own config is the file its entry names, loaded exactly as `cdk deploy -c configFile=<file>` would.
 */

export const deliveryStageSchema = z
  .object({
    configFile: z
      .string()
      .regex(/^[\w./-]+\.(ya?ml|json)$/, 'expected a YAML or JSON file path relative to the repository root')
      .describe('the stage config file, e.g. stages/prod.yaml (the same file `cdk deploy -c configFile=` takes)'),
    approval: z
      .enum(['manual', 'none'])
      .default('manual')
      .describe('manual: a person approves in CodePipeline before this stage deploys; none: it deploys at once'),
  })
  .strict();

export const deliveryConfigSchema = z
  .object({
    connectionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[0-9a-f-]{36}$/,
        'expected a CodeConnections connection ARN like "arn:aws:codeconnections:us-east-1:111111111111:connection/<uuid>"',
      )
      .describe('the CodeConnections (GitHub, GitLab, Bitbucket) connection the pipeline reads the repository through'),
    repository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'expected "<owner>/<repository>", e.g. "my-org/gpt-oss-finetune"')
      .describe('the repository the pipeline builds'),
    branch: z.string().min(1).default('main').describe('the branch whose merges the pipeline deploys'),
    stages: z
      .array(deliveryStageSchema)
      .min(1, 'list at least one stage, e.g. [{configFile: stages/dev.yaml}]')
      .describe('the stages in deployment order'),
  })
  .strict();

export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;
export type DeliveryStageConfig = z.infer<typeof deliveryStageSchema>;

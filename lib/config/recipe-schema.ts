import { z } from 'zod';
import { type ExportedField, type FieldType, fieldSchema } from './recipe-field-schema';
import fieldsFile from './recipe-fields.generated.json';

/**
 * A recipe = one YAML file = one pipeline. Its top-level keys are the training script's own dataclass
 * fields (TRL `ScriptArguments`/`SFTConfig`/`ModelConfig` plus ours), exported from Python into
 * `recipe-fields.generated.json`, so that a stock TRL recipe validates with only the `platform` block
 * added and a misspelt key fails here instead of on a GPU.
 */

/** The one reserved top-level key: everything SageMaker needs that is not a training argument. */
export const PLATFORM_KEY = 'platform';

export type RecipeField = Pick<ExportedField, 'group' | 'default'>;

interface FieldsFile {
  versions: { trl: string; peft: string; transformers: string };
  fields: Record<string, FieldType & ExportedField>;
  renamed: Record<string, string>;
  reportToInstalled: string[];
}

const generated = fieldsFile as unknown as FieldsFile;

/** Library versions the field list was exported from (the training image pins the same). */
export const TRAINING_LIBRARY_VERSIONS = generated.versions;

/** Every training-argument key a recipe may use, with the dataclass group it belongs to. */
export const RECIPE_FIELDS: Readonly<Record<string, RecipeField>> = generated.fields;

/**
 * Old key → new key for names the pinned libraries renamed (`torch_dtype` → `dtype`, `warmup_ratio` →
 * `warmup_steps`). Accepted so stock TRL recipes validate; the training script rewrites them and the recipe
 * lint warns with the new name.
 */
export const RENAMED_KEYS: Readonly<Record<string, string>> = generated.renamed;

/** `report_to` integrations the training image installs (the others are swapped for TensorBoard at run time). */
export const INSTALLED_REPORT_TO: readonly string[] = generated.reportToInstalled;

const trainingArgumentShape: Record<string, z.ZodType> = Object.fromEntries([
  ...Object.entries(generated.fields).map(([name, field]) => [name, fieldSchema(field).optional()]),
  ...Object.entries(generated.renamed).map(([old, renamed]) => [
    old,
    fieldSchema(
      { ...generated.fields[renamed], default: undefined },
      `Deprecated: renamed to \`${renamed}\` in the pinned libraries; the training script rewrites it.`,
    ).optional(),
  ]),
]);

const positiveInt = (what: string) =>
  z.number().int(`expected a whole number of ${what}`).positive(`expected a positive number of ${what}`);

/** SageMaker's cap on a training job's MaxRuntimeInSeconds and MaxWaitTimeInSeconds: 28 days. */
export const MAX_JOB_SECONDS = 2_419_200;

/** Serving context length when a recipe sets no `platform.serving.max_model_len` (or no serving block). */
export const DEFAULT_MAX_MODEL_LEN = 8192;

export const DISTRIBUTIONS = ['single-gpu', 'ddp', 'zero3', 'zero3-offload'] as const;

/** A SageMaker instance type name, e.g. `ml.p5.48xlarge` or `ml.p6-b200.48xlarge`. */
export const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$/;

const instanceType = z
  .string({
    error: (issue) =>
      issue.input === undefined ? 'required: write a SageMaker instance type like "ml.p5.4xlarge"' : undefined,
  })
  .regex(INSTANCE_TYPE_PATTERN, 'expected a SageMaker instance type like "ml.p5.48xlarge"');

const PLATFORM_MISSING =
  'every recipe needs a platform: block (what SageMaker needs besides the training arguments); add ' +
  '"platform:" with "training:" and "instance_type: ml.p5.4xlarge" (a GPU training instance) under it';
const TRAINING_MISSING =
  'the platform block needs training: with at least instance_type, e.g. "training: {instance_type: ml.p5.4xlarge}"';

export const platformSchema = z
  .object(
    {
      training: z
        .object(
          {
            instance_type: instanceType.describe('SageMaker training instance type'),
            instance_count: positiveInt('instances').default(1).describe('number of instances (nodes)'),
            distribution: z
              .enum(DISTRIBUTIONS)
              .default('single-gpu')
              .describe('accelerate config: single-gpu, ddp, zero3 (DeepSpeed ZeRO-3) or zero3-offload'),
            spot: z
              .boolean()
              .default(false)
              .describe('managed spot training (checkpoints sync to S3 and the job resumes)'),
            max_runtime_seconds: positiveInt('seconds')
              .max(MAX_JOB_SECONDS, `SageMaker allows at most 28 days (${MAX_JOB_SECONDS} s)`)
              .default(86400)
              .describe('stopping condition: the job stops after this many seconds of training'),
            max_wait_seconds: positiveInt('seconds')
              .max(MAX_JOB_SECONDS)
              .optional()
              .describe('spot only: total time including waiting for capacity'),
            checkpoints: z
              .boolean()
              .default(true)
              .describe('sync /opt/ml/checkpoints to S3 so a restarted job resumes'),
            volume_size_gb: positiveInt('GB')
              .max(16384)
              .optional()
              .describe('EBS volume per instance; default from the estimator'),
            image_uri: z.string().min(1).optional().describe('training image; default: the PyTorch training DLC'),
            keep_alive_seconds: z.number().int().min(0).max(3600).default(0).describe('warm pool keep-alive'),
          },
          { error: (issue) => (issue.input === undefined ? TRAINING_MISSING : 'expected a mapping of training keys') },
        )
        .strict()
        .describe('the SageMaker training job: instance, distribution, spot, stopping conditions (required)'),
      data: z
        .object({
          s3_uri: z
            .string()
            .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'expected an S3 URI like "s3://bucket/prefix/"')
            .optional()
            .describe('default dataset location; default: the datasets bucket under datasets/<recipe>/'),
          examples: positiveInt('examples').default(1000).describe('dataset size, for the run-time and cost estimate'),
          avg_tokens_per_example: positiveInt('tokens')
            .default(1024)
            .describe('mean tokens per example after templating'),
        })
        .strict()
        .default({ examples: 1000, avg_tokens_per_example: 1024 })
        .describe('the dataset: default location and the size the time and cost estimate assume'),
      quality_gate: z
        .object({
          max_eval_loss: z
            .number()
            .positive('expected a positive eval-loss threshold')
            .describe('fail the pipeline if final eval loss is above this'),
        })
        .strict()
        .optional()
        .describe('the pipeline registers the model only if the final evaluation passes this gate'),
      serving: z
        .object({
          instance_type: instanceType.describe('SageMaker hosting instance type for the endpoint (GPU)'),
          tensor_parallel_degree: positiveInt('GPUs').optional().describe('default: all GPUs of the serving instance'),
          max_model_len: positiveInt('tokens')
            .default(DEFAULT_MAX_MODEL_LEN)
            .describe('vLLM context length (prompt + completion tokens)'),
          image_uri: z.string().min(1).optional().describe('default: the vLLM SageMaker serving image'),
          min_instances: positiveInt('instances').default(1).describe('endpoint autoscaling minimum'),
          max_instances: positiveInt('instances').default(1).describe('endpoint autoscaling maximum'),
          data_capture: z.boolean().default(false).describe('capture endpoint requests and responses to S3'),
        })
        .strict()
        .refine((s) => s.min_instances <= s.max_instances, {
          message: 'min_instances must not exceed max_instances',
          path: ['min_instances'],
        })
        .optional()
        .describe('the endpoint the deploy step creates; default: the cheapest instance that fits the model'),
      approval: z
        .enum(['manual', 'auto'])
        .optional()
        .describe('model package approval; default from the app config (manual)'),
      description: z.string().max(3072).optional().describe('shown in the report and on the pipeline'),
    },
    { error: (issue) => (issue.input === undefined ? PLATFORM_MISSING : 'expected a mapping of platform keys') },
  )
  .strict();

export const recipeSchema = z
  .object({
    ...trainingArgumentShape,
    // TrlParser sets these environment variables before training.
    env: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('environment variables the training script sets before training (TrlParser)'),
    [PLATFORM_KEY]: platformSchema.describe('everything SageMaker needs besides the training arguments (required)'),
  })
  .strict();

export type RecipeDocument = z.infer<typeof recipeSchema> & Record<string, unknown>;
export type PlatformBlock = z.infer<typeof platformSchema>;

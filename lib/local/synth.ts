import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { ConfigError } from '../config/errors';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { pipelineName } from '../config/naming';
import { createStacks } from '../create-stacks';
import type { Json } from '../pipeline/expressions';
import { formatFinding } from '../recipes/findings';
import { toLoadedRecipe, validateRecipeFile } from '../recipes/validate-recipe';
import { type LocalDeployValues, localDeployValues } from './local-values';
import type { StackTemplate } from './stack-values';

/**
 * Synthesizes the platform for ONE recipe (so another recipe's problem cannot block this run) and reads back
 * what synth wrote for it: the pipeline definition file and the other files the BucketDeployments would copy
 * into the artifacts bucket (the recipe channel, the training code), with the deploy-time markers
 * (`<<marker:0xbaba:N>>`, one per CloudFormation value) filled with local values. This module sits at the top
 * layer beside bin/: it builds the app.
 */

/** One object a BucketDeployment would write: its key in the artifacts bucket and its bytes. */
export interface DeployedFile {
  readonly key: string;
  readonly body: Buffer;
}

export interface SynthesizedRecipe {
  readonly recipeName: string;
  readonly recipeFile: string;
  readonly pipelineName: string;
  /** The pipeline definition as the CfnPipeline's S3 location holds it, markers filled. */
  readonly definition: Json;
  readonly definitionKey: string;
  /** Every file deployed to the artifacts bucket (definition, recipe channel, training code). */
  readonly files: readonly DeployedFile[];
  readonly values: LocalDeployValues;
  /** cdk.out directory of this synth. */
  readonly outdir: string;
  /** Every top-level stack's template, by stack name. */
  readonly stacks: ReadonlyMap<string, StackTemplate>;
  /** Name of the stack with the REGISTER and DEPLOY state machines. */
  readonly deploymentStackName: string;
}

type Obj = Record<string, unknown>;

function resourcesOf(template: Obj): [string, Obj][] {
  return Object.entries((template.Resources ?? {}) as Record<string, Obj>);
}

/** A CloudFormation value with every `Ref` to a stack parameter replaced by its local value. */
function localValue(expr: unknown, values: Readonly<Record<string, string>>, where: string): string {
  if (typeof expr === 'string') return expr;
  const ref = (expr as Obj | null)?.Ref;
  if (typeof ref === 'string' && ref in values) return values[ref];
  throw new Error(
    `${where}: no local value for the deploy-time value ${JSON.stringify(expr)}; add it to lib/local/local-values.ts`,
  );
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Validates and synthesizes `recipeFile` alone; throws the recipe check's findings if it is invalid. */
export function synthesizeRecipe(
  recipeFile: string,
  options: { readonly outdir: string; readonly cwd?: string },
): SynthesizedRecipe {
  const cwd = options.cwd ?? process.cwd();
  const context = readCdkJsonContext(cwd);
  const config = loadAppConfig(context, cwd);
  const validation = validateRecipeFile(recipeFile, config, { cwd });
  if (!validation.valid || !validation.analysis) {
    throw new ConfigError(recipeFile, validation.findings.filter((f) => f.level === 'error').map(formatFinding));
  }
  const recipe = { ...toLoadedRecipe(validation), warnings: [], analysis: validation.analysis };
  fs.rmSync(options.outdir, { recursive: true, force: true });
  // bundling is skipped: the Lambda handlers are not run here.
  const app = new cdk.App({ outdir: options.outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const platform = createStacks(app, { config, recipes: [recipe], gitSha: 'local' });
  const assembly = app.synth();
  const values = localDeployValues(config);

  const templates: Obj[] = [];
  const stacks = new Map<string, StackTemplate>();
  for (const stack of assembly.stacks) {
    templates.push(stack.template as Obj);
    stacks.set(stack.stackName, stack.template as StackTemplate);
  }
  for (const file of fs.readdirSync(options.outdir).filter((f) => f.endsWith('.nested.template.json'))) {
    templates.push(JSON.parse(fs.readFileSync(path.join(options.outdir, file), 'utf8')) as Obj);
  }
  const deployments: [string, Obj][] = [];
  let definitionKey: string | undefined;
  for (const template of templates) {
    for (const [id, resource] of resourcesOf(template)) {
      const props = (resource.Properties ?? {}) as Obj;
      if (resource.Type === 'AWS::SageMaker::Pipeline') {
        const location = ((props.PipelineDefinition ?? {}) as Obj).PipelineDefinitionS3Location as Obj | undefined;
        if (typeof location?.Key === 'string') definitionKey = location.Key;
      }
      if (resource.Type === 'Custom::CDKBucketDeployment') deployments.push([id, props]);
    }
  }
  const prefixOf = (props: Obj): string =>
    typeof props.DestinationBucketKeyPrefix === 'string' ? props.DestinationBucketKeyPrefix : '';
  // the training stack's code deployment: its prefix is the pipelines' CodeS3Uri.
  const codePrefix = deployments.map(([, p]) => prefixOf(p)).find((p) => p.startsWith('code/'));
  if (!codePrefix) throw new Error(`${recipeFile}: no BucketDeployment writes the training code (code/...)`);
  const codeS3Uri = `s3://${values.artifactsBucket}/${codePrefix}`;
  const stackParameters = { ...values.stackParameters, CodeS3Uri: codeS3Uri };
  const files: DeployedFile[] = [];
  for (const [id, props] of deployments) {
    {
      const prefix = prefixOf(props);
      const keys = (props.SourceObjectKeys ?? []) as string[];
      const markers = (props.SourceMarkers ?? []) as Obj[];
      keys.forEach((zipKey, i) => {
        const dir = path.join(options.outdir, `asset.${zipKey.replace(/\.zip$/, '')}`);
        if (!fs.existsSync(dir)) throw new Error(`${id}: asset ${zipKey} is not in ${options.outdir}`);
        const fill = Object.entries(markers[i] ?? {}).map(([marker, expr]) => {
          const value = localValue(expr, stackParameters, `${id} ${marker}`);
          // jsonEscape: the marker sits inside a JSON string (SourceMarkersConfig).
          return [marker, JSON.stringify(value).slice(1, -1)] as const;
        });
        for (const rel of filesUnder(dir)) {
          let body = fs.readFileSync(path.join(dir, rel));
          if (fill.length > 0) {
            let text = body.toString('utf8');
            for (const [marker, value] of fill) text = text.split(marker).join(value);
            body = Buffer.from(text, 'utf8');
          }
          files.push({ key: `${prefix}${rel.split(path.sep).join('/')}`, body });
        }
      });
    }
  }
  if (!definitionKey) throw new Error(`${recipeFile}: synth wrote no SageMaker pipeline`);
  const definitionFile = files.find((f) => f.key === definitionKey);
  if (!definitionFile) throw new Error(`${recipeFile}: no BucketDeployment writes the definition ${definitionKey}`);
  const definition = JSON.parse(definitionFile.body.toString('utf8')) as Json;
  if (definitionFile.body.toString('utf8').includes('<<marker:')) {
    throw new Error(`${definitionKey}: a deploy-time marker was left unfilled`);
  }
  return {
    recipeName: recipe.name,
    recipeFile: recipe.file,
    pipelineName: pipelineName(config, recipe.name),
    definition,
    definitionKey,
    files,
    values: { ...values, codeS3Uri, stackParameters },
    outdir: options.outdir,
    stacks,
    deploymentStackName: platform.deployment.stackName,
  };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type AppConfig, appConfigSchema } from './app-config';
import { ConfigError, parseOrThrow } from './errors';

/** The cdk.json context key that holds the app config. */
export const CONFIG_CONTEXT_KEY = 'gptOss';
/** Context key naming an optional YAML/JSON file whose keys override the context config. */
export const CONFIG_FILE_CONTEXT_KEY = 'configFile';

/**
 * Builds the app config from the `gptOss` context object (cdk.json or `-c`) and, when given, a config
 * file (`-c configFile=stages/prod.yaml`). File keys win over context keys at the top level.
 */
export function loadAppConfig(context: Record<string, unknown>, cwd = process.cwd()): AppConfig {
  const fromContext = context[CONFIG_CONTEXT_KEY] ?? {};
  if (typeof fromContext !== 'object' || fromContext === null || Array.isArray(fromContext)) {
    throw new ConfigError('cdk.json', [
      `context.${CONFIG_CONTEXT_KEY}: found ${JSON.stringify(fromContext)}; expected an object`,
    ]);
  }
  const fileName = context[CONFIG_FILE_CONTEXT_KEY];
  let fromFile: Record<string, unknown> = {};
  let source = `cdk.json context "${CONFIG_CONTEXT_KEY}"`;
  if (fileName !== undefined) {
    if (typeof fileName !== 'string') {
      throw new ConfigError('cdk.json', [
        `context.${CONFIG_FILE_CONTEXT_KEY}: found ${JSON.stringify(fileName)}; expected a file path`,
      ]);
    }
    const file = path.resolve(cwd, fileName);
    if (!fs.existsSync(file)) {
      throw new ConfigError(fileName, [
        `file not found (from context "${CONFIG_FILE_CONTEXT_KEY}"); create it or fix the path`,
      ]);
    }
    const parsed: unknown = parseYaml(fs.readFileSync(file, 'utf8'));
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(fileName, ['(top level): expected a mapping of config keys']);
    }
    fromFile = (parsed ?? {}) as Record<string, unknown>;
    source = `${source} + ${fileName}`;
  }
  return parseOrThrow(appConfigSchema, { ...fromContext, ...fromFile }, source);
}

/** The `context` object of `<cwd>/cdk.json`, or `{}` when there is none. */
export function readCdkJsonContext(cwd: string): Record<string, unknown> {
  const file = path.join(cwd, 'cdk.json');
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError('cdk.json', [`(top level): not valid JSON (${(e as Error).message}); fix the syntax`]);
  }
  const context = (parsed as { context?: unknown }).context;
  return context && typeof context === 'object' && !Array.isArray(context) ? (context as Record<string, unknown>) : {};
}

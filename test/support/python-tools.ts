import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root (this file lives in test/support). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The project's Python virtual environment, created by `.ci/bootstrap.sh`. */
export const VENV_BIN = path.join(REPO_ROOT, '.venv', 'bin');

/** Absolute path of a console script in the project's venv; throws with the fix if it is missing. */
export function venvTool(name: string): string {
  const tool = path.join(VENV_BIN, name);
  if (!fs.existsSync(tool)) {
    throw new Error(`${tool} not found; run "bash .ci/bootstrap.sh" (or "npm test") to create the Python environment`);
  }
  return tool;
}

/** Runs a venv tool synchronously and returns its output; never throws on a non-zero exit. */
export function runVenvTool(name: string, args: readonly string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(venvTool(name), args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
}

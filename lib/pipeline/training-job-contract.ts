import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MetricDefinition } from './steps';

/*
 * The files the training code directory must ship for the pipelines (the training-job contract): the job's
 * entrypoint `launch.py` and the SageMaker MetricDefinitions the training steps declare.
 */

/** Reads and checks the MetricDefinitions file of the training-job contract. */
export function readMetricDefinitions(file: string): MetricDefinition[] {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found: the training code must ship its SageMaker MetricDefinitions there ` +
        '([{"Name": "eval_loss", "Regex": "..."}, ...]); the pipelines read it at synth',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every(
      (m) =>
        m !== null &&
        typeof m === 'object' &&
        typeof (m as MetricDefinition).Name === 'string' &&
        typeof (m as MetricDefinition).Regex === 'string',
    )
  ) {
    throw new Error(`${file}: expected a non-empty list of {"Name": "...", "Regex": "..."} objects`);
  }
  return (parsed as MetricDefinition[]).map((m) => ({ Name: m.Name, Regex: m.Regex }));
}

/** The training-job contract's entrypoint must exist in the code directory. */
export function assertContractFiles(codeDirectory: string): void {
  const launcher = path.join(codeDirectory, 'launch.py');
  if (!fs.existsSync(launcher)) {
    throw new Error(
      `${launcher} not found: the pipelines start jobs with ["python3", "/opt/ml/input/data/code/launch.py"] ` +
        '(training-job contract); add the launcher to the training code',
    );
  }
}

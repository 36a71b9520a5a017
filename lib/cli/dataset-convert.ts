import * as fs from 'node:fs';
import { convertRow, DatasetStats, type RowProblem } from './dataset';
import { readRows } from './dataset-reader';
import { CliError } from './errors';

/** One file to read, and how rows of it are named in messages (empty when there is only one file). */
export interface DatasetInput {
  readonly file: string;
  readonly label: string;
}

/**
 * The name the converted data gets under its prefix: a plain file name (no folders, so it cannot leave the
 * prefix or the temporary folder) ending in `.jsonl`, the format written, which the training job reads.
 */
export function checkOutputName(name: string, what: string): string {
  if (name === '' || /[/\\]/.test(name) || name === '.' || name === '..' || name.startsWith('.')) {
    throw new CliError(
      `${what} "${name}" is not a plain file name; give a name like train.jsonl (no folders, "/" or "..")`,
    );
  }
  if (!name.toLowerCase().endsWith('.jsonl')) {
    throw new CliError(
      `${what} "${name}" does not end in .jsonl, but prepare-data writes JSON Lines ({"messages": [...]} per line); ` +
        'name it <something>.jsonl',
    );
  }
  return name;
}

/**
 * Reads, validates and converts every row of the inputs into one temporary JSONL; throws listing the bad
 * rows (the first `maxErrors`), so nothing is uploaded unless every row is valid.
 */
export async function convertFiles(
  inputs: readonly DatasetInput[],
  target: string,
  maxErrors: number,
  describe: string,
): Promise<{ stats: DatasetStats; bytes: number }> {
  const stats = new DatasetStats();
  const problems: RowProblem[] = [];
  let problemCount = 0;
  const outStream = fs.createWriteStream(target, 'utf8');
  const closed = new Promise<void>((resolve, reject) => {
    outStream.on('finish', resolve);
    outStream.on('error', reject);
  });
  try {
    for (const input of inputs) {
      for await (const raw of readRows(input.file)) {
        const result = 'parseError' in raw ? { ok: false as const, reason: raw.parseError } : convertRow(raw.value);
        if (!result.ok) {
          problemCount += 1;
          const where = input.label ? `${input.label} ${raw.where}` : raw.where;
          if (problems.length < maxErrors) problems.push({ where, reason: result.reason });
          continue;
        }
        stats.add(result.info);
        if (problemCount === 0 && !outStream.write(`${JSON.stringify(result.info.row)}\n`)) {
          await new Promise<void>((resolve) => outStream.once('drain', () => resolve()));
        }
      }
    }
  } finally {
    outStream.end();
    await closed;
  }
  if (problemCount > 0) {
    const more = problemCount > problems.length ? `\n  ... and ${problemCount - problems.length} more` : '';
    throw new CliError(
      `${describe}: ${problemCount} invalid row${problemCount === 1 ? '' : 's'} out of ${problemCount + stats.examples}; ` +
        `nothing was uploaded; fix ${problemCount === 1 ? 'it' : 'them'} and run again:\n` +
        problems.map((p) => `  ${p.where}: ${p.reason}`).join('\n') +
        more,
    );
  }
  if (stats.examples === 0) throw new CliError(`${describe}: has no examples; nothing was uploaded`);
  return { stats, bytes: fs.statSync(target).size };
}

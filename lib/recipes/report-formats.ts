import { countLevels, type Finding, findingLocation, findingText } from './findings';
import { formatUsd, type RecipeReport, renderRecipeReport } from './report';
import type { RecipeValidation } from './validate-recipe';

/**
 * The recipe report for machines and reviewers, besides the text table of ./report.ts: GitHub workflow annotations
 * (a PR shows each finding on its line), JSON for tools, and the Markdown table the pull-request comment carries
 * (each added or changed recipe's memory fit, hours and $/run against the base branch's recipes).
 */

export const REPORT_FORMATS = ['text', 'github', 'markdown', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The first line of the pull-request comment; the workflow finds and updates the comment by it. */
export const MARKDOWN_MARKER = '<!-- gpt-oss-recipe-report -->';

/** Workflow-command escaping (actions/toolkit `command.ts`): data escapes % CR LF, properties also : and ,. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::error file=recipes/x.yaml,line=12,col=3,title=recipe check (gpu-memory)::lora_r: found …`, one per finding. */
export function githubAnnotation(f: Finding): string {
  const props = [`file=${escapeProperty(f.file)}`];
  if (f.line !== undefined) props.push(`line=${f.line}`, `col=${f.column ?? 1}`);
  props.push(`title=${escapeProperty(`recipe check (${f.rule})`)}`);
  return `::${f.level} ${props.join(',')}::${escapeData(findingText(f))}`;
}

/** Annotations for every finding, then the text report (the job log keeps the table). */
export function renderGithub(report: RecipeReport): string {
  const findings = report.recipes.flatMap((r) => r.findings);
  return `${findings.map(githubAnnotation).join('\n')}${findings.length > 0 ? '\n' : ''}${renderRecipeReport(report)}`;
}

/** One recipe's figures, as numbers, for JSON and for comparisons. */
export interface RecipeFigures {
  readonly name: string;
  readonly file: string;
  readonly hash: string;
  readonly valid: boolean;
  readonly model?: string;
  readonly method?: string;
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly distribution?: string;
  readonly memoryGiBPerGpu?: number;
  readonly availableGiBPerGpu?: number;
  readonly hours?: number;
  readonly costUsd?: number;
  readonly spot?: boolean;
  readonly errors: number;
  readonly warnings: number;
}

export function recipeFigures(r: RecipeValidation): RecipeFigures {
  const a = r.analysis;
  const training = r.document?.platform.training;
  return {
    name: r.name,
    file: r.file,
    hash: r.hash,
    valid: r.valid,
    model: a?.model?.shortName,
    method: a?.method,
    instanceType: training?.instance_type,
    instanceCount: training?.instance_count,
    distribution: training?.distribution,
    memoryGiBPerGpu: a?.memory?.perGpuGiB,
    availableGiBPerGpu: a?.availableGiB,
    hours: a?.run?.totalHours,
    costUsd: a?.run?.costUsd,
    spot: a?.run?.spot,
    ...countLevels(r.findings),
  };
}

/** `{ ok, dir, recipes: [{ …figures, findings: [{ rule, level, file, line, column, keyPath, found, message, fix }] }] }`. */
export function renderJson(report: RecipeReport): string {
  const recipes = report.recipes.map((r) => ({ ...recipeFigures(r), findings: r.findings }));
  return `${JSON.stringify({ ok: report.ok, dir: report.dir, recipes }, null, 2)}\n`;
}

type Change = 'added' | 'changed' | 'unchanged';

/** A figure with its change against the base: `46.4 (+2.0)`. */
function delta(now: number | undefined, was: number | undefined, show: (n: number) => string, change: Change): string {
  if (now === undefined) return '–';
  if (change !== 'changed' || was === undefined) return show(now);
  const diff = now - was;
  if (Math.abs(diff) < 1e-9) return `${show(now)} (=)`;
  return `${show(now)} (${diff > 0 ? '+' : '−'}${show(Math.abs(diff))})`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function verdictCell(f: RecipeFigures): string {
  if (f.errors > 0) return `❌ ${f.errors} error${f.errors === 1 ? '' : 's'}`;
  if (f.warnings > 0) return `⚠️ ${f.warnings} warning${f.warnings === 1 ? '' : 's'}`;
  return '✅ ok';
}

/**
 * The reviewer's table. With `base` (the same check on the base branch's recipes), only added and changed recipes
 * are shown, each figure with its change against the base, and removed recipes are listed; without it, every recipe.
 */
export function renderMarkdown(report: RecipeReport, base?: RecipeReport): string {
  const before = new Map((base?.recipes ?? []).map((r) => [r.name, recipeFigures(r)]));
  const rows = report.recipes
    .map((r) => {
      const now = recipeFigures(r);
      const was = before.get(r.name);
      const change: Change = !base ? 'unchanged' : !was ? 'added' : was.hash === now.hash ? 'unchanged' : 'changed';
      return { r, now, was, change };
    })
    .filter((x) => !base || x.change !== 'unchanged');
  const removed = base ? base.recipes.filter((b) => !report.recipes.some((r) => r.name === b.name)) : [];

  const out = [MARKDOWN_MARKER, '### Recipe check', ''];
  if (base && rows.length === 0 && removed.length === 0) {
    out.push('No recipe added or changed against the base branch.');
  }
  if (rows.length > 0) {
    out.push(
      `| recipe |${base ? ' change |' : ''} model | method | instance × count | GiB/GPU est / avail | hours | $/run | verdict |`,
      `|---|${base ? '---|' : ''}---|---|---|---|---:|---:|---|`,
    );
    for (const { now, was, change } of rows) {
      const memory =
        now.memoryGiBPerGpu === undefined
          ? '–'
          : `${delta(now.memoryGiBPerGpu, was?.memoryGiBPerGpu, (n) => n.toFixed(1), change)} / ${now.availableGiBPerGpu?.toFixed(1) ?? '?'}`;
      const cost = delta(now.costUsd, was?.costUsd, formatUsd, change) + (now.spot ? ' spot' : '');
      const instance = now.instanceType ? `${now.instanceType} × ${now.instanceCount ?? 1}` : '–';
      out.push(
        `| \`${cell(now.name)}\` |${base ? ` ${change} |` : ''} ${now.model ?? '?'} | ${now.method ?? '?'} | ${instance} | ` +
          `${memory} | ${delta(now.hours, was?.hours, (n) => n.toFixed(1), change)} | ${cell(cost)} | ${verdictCell(now)} |`,
      );
    }
  }
  if (removed.length > 0) out.push('', `Removed: ${removed.map((r) => `\`${r.name}\``).join(', ')}`);

  const findings = rows.flatMap(({ r }) => r.findings);
  if (findings.length > 0) {
    out.push('', '<details><summary>Findings</summary>', '');
    for (const f of findings)
      out.push(`- **${f.level}** \`${findingLocation(f)}\` ${cell(findingText(f))} [${f.rule}]`);
    out.push('', '</details>');
  }
  out.push(
    '',
    '_Estimates are first-order (GiB = 2^30 bytes; $ = on-demand, an upper bound for spot); `npm run recipes -- --details` shows the assumptions._',
  );
  return `${out.join('\n')}\n`;
}

/** The report in `format` (`base` only affects Markdown). */
export function renderReport(
  format: ReportFormat,
  report: RecipeReport,
  options: { details?: boolean; base?: RecipeReport } = {},
): string {
  switch (format) {
    case 'github':
      return renderGithub(report);
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report, options.base);
    default:
      return renderRecipeReport(report, { details: options.details });
  }
}

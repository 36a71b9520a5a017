import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as cdk from 'aws-cdk-lib';
import { runVenvTool } from './python-tools';
import { templatesOf, type TemplateJson } from './template';

/** The cfn-lint release the harness is written against (pinned in training-code/requirements-dev.txt). */
export const CFN_LINT_VERSION = '1.58.0';

/** A cfn-lint finding the project accepts, and why. */
export interface IgnoredCfnLintRule {
  /** Rule id, e.g. `W3005`. */
  readonly rule: string;
  /**
   * Only matches whose template path (`Resources/<logicalId>/...`) matches this pattern are ignored.
   * @default - any path
   */
  readonly pathPattern?: RegExp;
  /**
   * Only matches whose message matches this pattern are ignored.
   * @default - any message
   */
  readonly messagePattern?: RegExp;
  readonly reason: string;
}

/**
 * The ONE place where cfn-lint findings are ignored for this project, each with its justification. Keep it
 * short and narrow; prefer fixing the template.
 */
export const CFN_LINT_IGNORED_RULES: readonly IgnoredCfnLintRule[] = [
  {
    rule: 'W3005',
    messagePattern: /already enforced by a 'GetAtt' at 'Resources\/[A-Za-z0-9]+\/Properties\/Role'$/,
    reason:
      "aws-cdk-lib's Lambda Function (and its own CustomResourceProvider handler) always adds a DependsOn on the execution role next to the GetAtt of its ARN; the redundant dependency is harmless and CDK-owned.",
  },
  {
    rule: 'W3005',
    messagePattern: /already enforced by a 'GetAtt' at 'Resources\/[A-Za-z0-9]+\/Properties\/RoleArn'$/,
    reason:
      "aws-cdk-lib's Step Functions StateMachine always adds a DependsOn on its role next to the GetAtt of the role's ARN; the redundant dependency is harmless and CDK-owned.",
  },
  {
    rule: 'E3703',
    pathPattern: /^Resources\/Pipeline[0-9A-F]{8}\/Properties\/Stages\/\d+\/Actions\/\d+\/Configuration\/RoleArn$/,
    messagePattern: /^Prefer using Fn::Sub over Fn::Join with an empty delimiter$/,
    reason:
      "aws-cdk-lib/pipelines writes the target account's CDK bootstrap role ARN of each deploy action as Fn::Join; the value is correct and CDK-owned (a style preference, not a schema error).",
  },
];

/** Does an ignore entry with a path or message pattern cover a finding? */
function isIgnored(rule: IgnoredCfnLintRule, finding: CfnLintFinding): boolean {
  if (rule.rule !== finding.rule || (!rule.pathPattern && !rule.messagePattern)) return false;
  return (rule.pathPattern?.test(finding.path) ?? true) && (rule.messagePattern?.test(finding.message) ?? true);
}

/** One cfn-lint match. */
export interface CfnLintFinding {
  /** Stack (template) name. */
  readonly template: string;
  /** e.g. `E3030`, `W2001`. */
  readonly rule: string;
  /** `Error`, `Warning` or `Informational`. */
  readonly level: string;
  readonly message: string;
  /** JSON path inside the template, e.g. `Resources/Domain/Properties/AppNetworkAccessType`. */
  readonly path: string;
}

interface RawMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path?: (string | number)[] | null };
}

let checkedVersion = false;
function assertPinnedVersion(): void {
  if (checkedVersion) return;
  const res = runVenvTool('cfn-lint', ['--version']);
  const version = `${res.stdout}${res.stderr}`.trim();
  if (!version.includes(CFN_LINT_VERSION)) {
    throw new Error(`expected cfn-lint ${CFN_LINT_VERSION} in .venv, found "${version}"; run "bash .ci/bootstrap.sh"`);
  }
  checkedVersion = true;
}

/**
 * Writes each template to a temp directory and runs the venv's pinned cfn-lint over all of them in one
 * process, ignoring only {@link CFN_LINT_IGNORED_RULES}. Returns every match (errors, warnings and
 * informational); assert with {@link expectCfnLintClean}.
 */
export function cfnLintTemplates(
  templates: Readonly<Record<string, TemplateJson>>,
  options: { readonly regions?: readonly string[] } = {},
): CfnLintFinding[] {
  assertPinnedVersion();
  const names = Object.keys(templates);
  if (names.length === 0) throw new Error('cfnLintTemplates: no templates given');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  try {
    const fileToTemplate = new Map<string, string>();
    for (const name of names) {
      const file = path.join(dir, `${name}.template.json`);
      fs.writeFileSync(file, JSON.stringify(templates[name], null, 1));
      fileToTemplate.set(file, name);
    }
    const args = ['--format', 'json', '--regions', ...(options.regions ?? ['us-east-1'])];
    const ignoredEverywhere = CFN_LINT_IGNORED_RULES.filter((r) => !r.pathPattern && !r.messagePattern).map(
      (r) => r.rule,
    );
    if (ignoredEverywhere.length > 0) args.push('--ignore-checks', ...ignoredEverywhere);
    args.push('--', ...fileToTemplate.keys());
    const res = runVenvTool('cfn-lint', args);
    let matches: RawMatch[];
    try {
      matches = JSON.parse(res.stdout || '[]') as RawMatch[];
    } catch {
      throw new Error(`cfn-lint did not return JSON (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
    }
    if (res.error) throw res.error;
    return matches
      .map((m) => ({
        template: fileToTemplate.get(m.Filename) ?? path.basename(m.Filename),
        rule: m.Rule.Id,
        level: m.Level,
        message: m.Message,
        path: (m.Location.Path ?? []).join('/'),
      }))
      .filter((f) => !CFN_LINT_IGNORED_RULES.some((r) => isIgnored(r, f)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Synthesizes a Stage/App and lints every template in it (nested stages included). */
export function cfnLintStage(
  stage: cdk.Stage,
  options: { readonly regions?: readonly string[] } = {},
): CfnLintFinding[] {
  return cfnLintTemplates(templatesOf(stage), options);
}

/** One line per finding: `stack rule level path: message`. */
export function formatCfnLintFindings(findings: readonly CfnLintFinding[]): string {
  if (findings.length === 0) return 'no cfn-lint findings';
  return findings.map((f) => `${f.template} ${f.rule} ${f.level} ${f.path}: ${f.message}`).join('\n');
}

/** Asserts zero errors and zero warnings (informational matches are allowed), printing them all on failure. */
export function expectCfnLintClean(findings: readonly CfnLintFinding[]): void {
  const bad = findings.filter((f) => f.level === 'Error' || f.level === 'Warning');
  if (bad.length > 0) {
    throw new Error(`${bad.length} cfn-lint error(s)/warning(s):\n${formatCfnLintFindings(bad)}`);
  }
}

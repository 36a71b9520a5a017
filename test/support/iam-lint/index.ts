/**
 * IAM policy lint: every policy document in every template goes through parliament (the venv's), after
 * intrinsic functions are resolved to plausible ARNs (dummy account 123456789012, the given region,
 * partition `aws`), so parliament can check that each action exists and that each resource is of a type the
 * action accepts. The Python side (test/support/iam_lint.py) also lists the few actions missing from
 * parliament's catalogue.
 */

export { IAM_LINT_ACCEPTED, type AcceptedIamFinding } from './accepted-findings';
export { extractPolicies } from './extract-policies';
export { iamLintStage, iamLintTemplates, lintPolicies } from './lint-policies';
export { expectIamLintClean, formatIamLintFindings } from './report';
export { LINT_ACCOUNT } from './resolver';
export type { ExtractedPolicy, IamLintFinding, IamLintOptions, PolicyKind } from './types';

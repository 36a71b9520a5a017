/** The shapes shared by every layer of the IAM policy lint: where a policy sits, what was extracted, what was found. */

/** Where a policy document sits. */
export type PolicyKind = 'identity' | 'resource' | 'trust';

/** A policy document extracted from a template, with intrinsics resolved. */
export interface ExtractedPolicy {
  /** `<stack>/<logicalId>/<property path>`, e.g. `gptoss-dev-studio/ExecutionRoleDefaultPolicy/PolicyDocument`. */
  readonly id: string;
  readonly kind: PolicyKind;
  readonly resourceType: string;
  /** The policy as parliament sees it. */
  readonly policy: Record<string, unknown>;
}

/** One parliament finding. */
export interface IamLintFinding {
  readonly policyId: string;
  readonly kind: PolicyKind;
  readonly issue: string;
  readonly severity: string;
  readonly title: string;
  readonly detail: string;
  readonly location: string;
  /** The resolved policy the finding is about, pretty-printed. */
  readonly policy: string;
}

export interface IamLintOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
}

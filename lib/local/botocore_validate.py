"""Validate API request dicts against the botocore service model, the same model the AWS SDKs are generated from.

Reads one JSON document on stdin and writes one JSON document on stdout:

    echo '{"requests": [{"service": "sagemaker", "operation": "CreateTrainingJob", "params": {...}}]}' \
        | .venv/bin/python lib/local/botocore_validate.py

Each request is checked twice against the operation's input shape:

1. ``paramValidator``: botocore's own ``ParamValidator`` (what boto3 runs before sending a request):
   required members, unknown members, types, minimum lengths and values.
2. ``constraints``: the remaining constraints the model declares but the client leaves to the service:
   maximum lengths/values, enums and patterns. Patterns are Java regexes matched against the whole value, as
   AWS's validators report them (``Member must satisfy regular expression pattern: ^...``); a pattern this
   interpreter cannot compile is listed under ``skippedPatterns`` instead of being silently treated as a match.

Operation names may be given as API names (``CreateTrainingJob``) or Step Functions style (``createTrainingJob``).
The script never touches the network or credentials.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import botocore
import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError, Shape
from botocore.validate import ParamValidator

try:  # the `regex` module understands \p{...} classes used by some AWS patterns.
    import regex as _re
except ImportError:  # pragma: no cover - depends on the environment
    import re as _re

# Java surrogate-pair ranges (UTF-16) mean "any supplementary code point" once decoded to Python str.
_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"
_SUPPLEMENTARY = "\\U00010000-\\U0010FFFF"

_pattern_cache: dict[str, Any] = {}


def _compile(pattern: str) -> Any | None:
    if pattern not in _pattern_cache:
        try:
            _pattern_cache[pattern] = _re.compile(pattern.replace(_SURROGATE_RANGE, _SUPPLEMENTARY))
        except Exception:  # noqa: BLE001 - any compile failure means "cannot check", reported as skipped
            _pattern_cache[pattern] = None
    return _pattern_cache[pattern]


class ConstraintChecker:
    """Walks params alongside a shape and reports max/enum/pattern violations (ParamValidator checks the rest)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.skipped_patterns: set[str] = set()

    def check(self, value: Any, shape: Shape, name: str) -> None:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            if not isinstance(value, dict):
                return
            for key, member_value in value.items():
                if key in shape.members:
                    self.check(member_value, shape.members[key], f"{name}.{key}" if name else key)
        elif kind == "list":
            if not isinstance(value, (list, tuple)):
                return
            self._max(len(value), meta, name, "length")
            for i, item in enumerate(value):
                self.check(item, shape.member, f"{name}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return
            self._max(len(value), meta, name, "number of entries")
            for key, item in value.items():
                self.check(key, shape.key, f"{name} (key: {key})")
                self.check(item, shape.value, f"{name}.{key}")
        elif kind == "string":
            if not isinstance(value, str):
                return
            self._max(len(value), meta, name, "length")
            enum = shape.enum
            if enum and value not in enum:
                self.errors.append(f"{name}: {value!r} is not one of {sorted(enum)}")
            pattern = meta.get("pattern")
            if pattern:
                compiled = _compile(pattern)
                if compiled is None:
                    self.skipped_patterns.add(pattern)
                elif compiled.fullmatch(value) is None:
                    self.errors.append(f"{name}: {value!r} does not match pattern {pattern}")
        elif kind in ("integer", "long", "double", "float") and type(value) in (int, float):
            self._max(value, meta, name, "value")

    def _max(self, found: float, meta: dict[str, Any], name: str, what: str) -> None:
        limit = meta.get("max")
        if limit is not None and found > limit:
            self.errors.append(f"{name}: {what} {found} exceeds the maximum {limit}")


def _operation_name(operation: str) -> str:
    return operation[:1].upper() + operation[1:]


def validate_one(session: botocore.session.Session, request: dict[str, Any]) -> dict[str, Any]:
    service = request.get("service")
    operation = request.get("operation")
    label = request.get("label") or f"{service}:{operation}"
    result: dict[str, Any] = {
        "label": label,
        "service": service,
        "operation": operation,
        "paramValidator": [],
        "constraints": [],
        "skippedPatterns": [],
        "setupError": None,
    }
    try:
        model = session.get_service_model(service)
        op_model = model.operation_model(_operation_name(operation))
    except UnknownServiceError:
        result["setupError"] = f"botocore {botocore.__version__} has no service {service!r}; use the name boto3 uses"
        return result
    except OperationNotFoundError:
        result["setupError"] = f"service {service!r} has no operation {operation!r}"
        return result
    shape = op_model.input_shape
    params = request.get("params")
    if shape is None:
        if params:
            result["paramValidator"].append(f"{operation} takes no input, found {sorted(params)}")
        return result
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        # generate_report() joins errors with newlines; keep one string per error.
        result["paramValidator"] = [line for line in report.generate_report().splitlines() if line.strip()]
    checker = ConstraintChecker()
    checker.check(params, shape, "")
    result["constraints"] = checker.errors
    result["skippedPatterns"] = sorted(checker.skipped_patterns)
    return result


def main() -> int:
    try:
        payload = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(json.dumps({"error": f"stdin is not JSON: {e}"}))
        return 2
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list):
        print(json.dumps({"error": 'expected {"requests": [{"service", "operation", "params"}, ...]}'}))
        return 2
    session = botocore.session.get_session()
    results = [validate_one(session, r) for r in requests]
    print(json.dumps({"botocoreVersion": botocore.__version__, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

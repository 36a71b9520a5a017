"""Export the recipe keys the training script accepts, for the TypeScript recipe schema.

    .venv/bin/python training-code/tools/export_recipe_fields.py > lib/config/recipe-fields.generated.json

The TypeScript side validates recipes at pull-request time against this list, so it describes exactly the
dataclasses `sft.py` parses: both take them from `gpt_oss_train.args.recipe_dataclasses`. `tests/test_packaging.py`
fails when the committed file is stale (for example after a TRL upgrade).
"""

import dataclasses
import enum
import json
import sys
import types
import typing
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peft  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402

from gpt_oss_train.args import RENAMED_KEYS, recipe_dataclasses  # noqa: E402


def describe_type(tp) -> dict:
    """Map a dataclass annotation to a small JSON type description the TS side turns into zod."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        inner = [describe_type(a) for a in members]
        nullable = len(members) != len(args)
        if len(inner) == 1:
            return {**inner[0], "nullable": nullable or inner[0].get("nullable", False)}
        return {"type": "union", "of": inner, "nullable": nullable}
    if origin is typing.Literal:
        return {"type": "enum", "values": [str(a) for a in args]}
    if origin in (list, tuple, typing.List):  # noqa: UP006
        return {"type": "list", "of": describe_type(args[0]) if args else {"type": "any"}}
    if origin is dict or tp is dict:
        return {"type": "dict"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "enum", "values": [str(m.value) for m in tp]}
    if tp is bool:
        return {"type": "bool"}
    if tp is int:
        return {"type": "int"}
    if tp is float:
        return {"type": "float"}
    if tp is str:
        return {"type": "str"}
    return {"type": "any"}


def export() -> dict:
    groups = recipe_dataclasses()
    fields: dict[str, dict] = {}
    for group, cls in groups.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.init or f.name in fields:
                continue
            entry = {"group": group, **describe_type(hints.get(f.name, typing.Any))}
            if f.default is not dataclasses.MISSING and isinstance(f.default, (bool, int, float, str)):
                entry["default"] = f.default.value if isinstance(f.default, enum.Enum) else f.default
            fields[f.name] = entry
    return {
        "generatedBy": "training-code/tools/export_recipe_fields.py",
        "versions": {"trl": trl.__version__, "peft": peft.__version__, "transformers": transformers.__version__},
        "fields": dict(sorted(fields.items())),
        "renamed": {old: new for old, new in sorted(RENAMED_KEYS.items()) if new in fields},
    }


if __name__ == "__main__":
    json.dump(export(), sys.stdout, indent=1)
    sys.stdout.write("\n")

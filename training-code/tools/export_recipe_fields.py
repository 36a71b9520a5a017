"""Export the recipe keys the training script accepts, for the TypeScript recipe schema.

    .venv/bin/python training-code/tools/export_recipe_fields.py > lib/config/recipe-fields.generated.json

The TypeScript side validates recipes at pull-request time against this list, so it describes exactly the
dataclasses `sft.py` parses: both take them from `gpt_oss_train.args.recipe_dataclasses`. `tests/test_packaging.py`
fails when the committed file is stale (for example after a TRL upgrade).

Besides each field's type and default it exports what the pinned libraries accept: the choices of `Literal`/enum
types and of `choices` metadata, the attention implementations transformers registers, the `report_to`
integrations (and which of them the training image installs), and the value ranges in `recipe_field_ranges.py`.
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
from recipe_field_ranges import RANGES  # noqa: E402
from recipe_field_values import attention_choices, installed_report_to, report_to_choices  # noqa: E402

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


def with_choices(entry: dict, choices: list[str], pattern: str | None = None) -> dict:
    """Replace a field's `str` type (alone or in a list/union) by the enum of its choices (and a pattern)."""
    enum_type: dict = {"type": "enum", "values": choices}
    if pattern:
        enum_type = {"type": "union", "of": [enum_type, {"type": "str", "pattern": pattern}]}

    def swap(t: dict) -> dict:
        if t["type"] == "str":
            return {**{k: v for k, v in t.items() if k != "type"}, **enum_type}
        if t["type"] == "list":
            return {**t, "of": swap(t["of"])}
        if t["type"] == "union":
            return {**t, "of": [swap(m) for m in t["of"]]}
        return t

    return swap(entry)


def description(f: dataclasses.Field) -> str | None:
    text = f.metadata.get("help")
    return " ".join(text.split()) if isinstance(text, str) and text.strip() else None


def export() -> dict:
    groups = recipe_dataclasses()
    fields: dict[str, dict] = {}
    for group, cls in groups.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.init or f.name in fields:
                continue
            entry = {"group": group, **describe_type(hints.get(f.name, typing.Any))}
            choices = f.metadata.get("choices")
            if choices:
                entry = with_choices(entry, [str(c) for c in choices])
            if f.default is not dataclasses.MISSING and isinstance(f.default, (bool, int, float, str)):
                entry["default"] = f.default.value if isinstance(f.default, enum.Enum) else f.default
            help_text = description(f)
            if help_text:
                entry["description"] = help_text
            fields[f.name] = entry
    fields["attn_implementation"] = with_choices(fields["attn_implementation"], *attention_choices())
    fields["report_to"] = with_choices(fields["report_to"], report_to_choices())
    for name, bounds in RANGES.items():
        fields[name] = {**fields[name], **{("rangeWhy" if k == "why" else k): v for k, v in bounds.items()}}
    return {
        "generatedBy": "training-code/tools/export_recipe_fields.py",
        "versions": {"trl": trl.__version__, "peft": peft.__version__, "transformers": transformers.__version__},
        "fields": dict(sorted(fields.items())),
        "reportToInstalled": installed_report_to(),
        "renamed": {old: new for old, new in sorted(RENAMED_KEYS.items()) if new in fields},
    }


if __name__ == "__main__":
    json.dump(export(), sys.stdout, indent=1)
    sys.stdout.write("\n")

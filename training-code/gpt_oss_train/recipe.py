"""Reading a recipe: one YAML file whose top-level keys are the training script's dataclass fields.

The reserved `platform` block (instance type, distribution, data location, serving...) belongs to the
infrastructure; it is stripped here before `TrlParser` sees the file. Keys that stock TRL recipes still use
but the pinned libraries renamed (`RENAMED_KEYS`) are rewritten, in the file and on the command line, and any
other unknown key is rejected with a message that names the recipe file and the key.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from trl import TrlParser

from .args import RENAMED_KEYS


logger = logging.getLogger(__name__)

PLATFORM_KEY = "platform"
ENV_KEY = "env"
DISTRIBUTIONS = ("single-gpu", "ddp", "zero3", "zero3-offload")

# What a recipe may put into a job; the recipe check reads the same file (lib/recipes/recipe-guard.ts).
GUARD = json.loads((Path(__file__).with_name("recipe_guard.json")).read_text())
ENV_ALLOWED = frozenset(GUARD["env_allowed"])
ENV_REFUSED = tuple((re.compile(r["pattern"]), r["why"]) for r in GUARD["env_refused"])
YAML_CORE_TAG = "tag:yaml.org,2002:"


class RecipeError(ValueError):
    """A recipe (or a command-line override) the training job cannot run."""


@dataclass(frozen=True)
class Recipe:
    """A recipe file split into the training arguments and the platform block."""

    path: Path
    name: str
    sha256: str
    arguments: dict[str, Any]
    platform: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def training(self) -> dict[str, Any]:
        return dict(self.platform.get("training") or {})

    @property
    def distribution(self) -> str:
        return str(self.training.get("distribution", "single-gpu"))

    @property
    def instance_count(self) -> int:
        return int(self.training.get("instance_count", 1))

    @property
    def instance_type(self) -> str | None:
        return self.training.get("instance_type")


def load_recipe(path: str | os.PathLike) -> Recipe:
    """Parse a recipe file; fail with the file name on anything that is not a mapping of known shape."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as err:
        raise RecipeError(f"{path}: cannot read the recipe ({err.strerror})") from err
    try:
        tags = explicit_tags(raw_bytes)
        if tags:
            raise RecipeError(
                "\n".join(
                    f"{path}: {key}: found {tag} {value} (line {line}); YAML tags are not allowed in a recipe, "
                    "write the plain value"
                    for key, tag, value, line in tags
                )
            )
        document = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(document, dict):
        raise RecipeError(
            f"{path}: a recipe must be a YAML mapping of training arguments, got {type(document).__name__}"
        )

    platform = document.pop(PLATFORM_KEY, None) or {}
    if not isinstance(platform, dict):
        raise RecipeError(f"{path}: `{PLATFORM_KEY}` must be a mapping, got {type(platform).__name__}")
    training = platform.get("training") or {}
    if not isinstance(training, dict):
        raise RecipeError(f"{path}: `{PLATFORM_KEY}.training` must be a mapping")
    distribution = training.get("distribution", "single-gpu")
    if distribution not in DISTRIBUTIONS:
        raise RecipeError(
            f"{path}: `{PLATFORM_KEY}.training.distribution` is {distribution!r}; "
            f"write one of {', '.join(DISTRIBUTIONS)}"
        )
    count = training.get("instance_count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise RecipeError(
            f"{path}: `{PLATFORM_KEY}.training.instance_count` must be a whole number >= 1, got {count!r}"
        )

    env = document.pop(ENV_KEY, None) or {}
    if not isinstance(env, dict):
        raise RecipeError(f"{path}: `{ENV_KEY}` must be a mapping of environment variables")
    problems = [
        f"{path}: env.{k}: found {v!r}; {env_key_problem(str(k))}" for k, v in env.items() if env_key_problem(str(k))
    ]
    if problems:
        raise RecipeError(
            "\n".join(problems) + f"\nremove them; recipes may set only {', '.join(sorted(ENV_ALLOWED))}"
        )
    trust = document.get("trust_remote_code")
    if trust not in (None, False) and str(trust).lower() != "false":
        raise RecipeError(
            f"{path}: trust_remote_code: found {trust!r}; it runs Python code from the model repository inside "
            "the job and GPT-OSS needs none; remove it"
        )

    return Recipe(
        path=path,
        name=path.stem,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        arguments=rename_keys(document, where=str(path)),
        platform=platform,
        env={str(k): str(v) for k, v in env.items()},
    )


def env_key_problem(key: str) -> str | None:
    """Why a recipe may not set the environment variable `key`, or None when it may."""
    for pattern, why in ENV_REFUSED:
        if pattern.search(key):
            return why
    if key not in ENV_ALLOWED:
        return "not in the allowlist of recipe environment variables"
    return None


def explicit_tags(text: bytes | str) -> list[tuple[str, str, str, int]]:
    """(key path, tag, value, line) of every explicitly tagged node: a recipe is plain data, so any tag is refused
    before the document is constructed (`!!python/...` would otherwise be the loader's to interpret)."""
    found: list[tuple[str, str, str, int]] = []
    stack: list[dict] = []

    def position() -> str:
        parts = []
        for entry in stack:
            if entry["kind"] == "seq":
                parts.append(f"[{entry['index']}]")
            else:
                parts.append("(key)" if entry["expect_key"] else str(entry["key"]))
        return ".".join(parts).replace(".[", "[") or "(top level)"

    def node_done() -> None:
        if stack:
            top = stack[-1]
            if top["kind"] == "seq":
                top["index"] += 1
            else:
                top["expect_key"] = not top["expect_key"]

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        node = isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent))
        if node and event.tag is not None:
            tag = event.tag.replace(YAML_CORE_TAG, "!!")
            value = repr(event.value) if isinstance(event, yaml.ScalarEvent) else "(a collection)"
            found.append((position(), tag, value, event.start_mark.line + 1))
        if isinstance(event, yaml.ScalarEvent):
            if stack and stack[-1]["kind"] == "map" and stack[-1]["expect_key"]:
                stack[-1]["key"] = event.value
            node_done()
        elif isinstance(event, yaml.AliasEvent):
            node_done()
        elif isinstance(event, yaml.MappingStartEvent):
            stack.append({"kind": "map", "expect_key": True, "key": None})
        elif isinstance(event, yaml.SequenceStartEvent):
            stack.append({"kind": "seq", "index": 0})
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
            node_done()
    return found


def rename_keys(arguments: dict[str, Any], where: str) -> dict[str, Any]:
    """Rewrite renamed keys (`torch_dtype` → `dtype`, ...); both spellings at once is an error."""
    out = dict(arguments)
    for old, new in RENAMED_KEYS.items():
        if old not in out:
            continue
        if new in out:
            raise RecipeError(
                f"{where}: both `{old}` and `{new}` are set; `{old}` is the old name of `{new}`, keep one"
            )
        logger.warning("%s: `%s` is the old name of `%s`; reading it as `%s`", where, old, new, new)
        out[new] = out.pop(old)
    return out


def rename_cli_args(args: list[str]) -> list[str]:
    """Apply `RENAMED_KEYS` to `--key value` / `--key=value` command-line overrides."""
    out = []
    for arg in args:
        for old, new in RENAMED_KEYS.items():
            if arg == f"--{old}":
                arg = f"--{new}"
            elif arg.startswith(f"--{old}="):
                arg = f"--{new}=" + arg.split("=", 1)[1]
        out.append(arg)
    return out


class RecipeParser(TrlParser):
    """`TrlParser` that reads our recipe files: platform block stripped, renamed keys rewritten, unknown keys
    rejected with the file name and the closest known key."""

    recipe: Recipe | None = None

    def parse_args_and_config(self, args=None, return_remaining_strings=False, fail_with_unknown_args=True, **kw):
        import sys

        args = rename_cli_args(list(args) if args is not None else sys.argv[1:])
        self.recipe = None
        if "--config" in args:
            index = args.index("--config")
            if index + 1 >= len(args):
                raise RecipeError("--config needs the path of a recipe file")
            self.recipe = load_recipe(args[index + 1])
            del args[index : index + 2]
            for key, value in self.recipe.env.items():
                os.environ[key] = value
            remaining = self.set_defaults_with_config(**self.recipe.arguments)
            if remaining and fail_with_unknown_args:
                unknown = [item[2:] for item in remaining[::2]]
                raise RecipeError(self._unknown_keys_message(str(self.recipe.path), unknown))
        try:
            return super().parse_args_and_config(
                args=args,
                return_remaining_strings=return_remaining_strings,
                fail_with_unknown_args=fail_with_unknown_args,
                **kw,
            )
        except ValueError as err:
            # HfArgumentParser reports unknown command-line flags as "Some specified arguments are not used".
            if "not used by the HfArgumentParser" in str(err):
                raise RecipeError(f"command-line override: {err}") from err
            raise

    def known_keys(self) -> list[str]:
        return sorted({action.dest for action in self._actions if action.dest != "help"})

    def _unknown_keys_message(self, where: str, unknown: list[str]) -> str:
        known = self.known_keys()
        lines = [f"{where}: unknown recipe key(s): {', '.join(unknown)}."]
        for key in unknown:
            hint = HINTS.get(key)
            if hint is None:
                close = difflib.get_close_matches(key, known, n=2)
                hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else None
            if hint:
                lines.append(f"  `{key}`: {hint}")
        lines.append(
            f"Top-level keys must be fields of the training script's dataclasses (TRL SFTConfig, ModelConfig, "
            f"FinetuneScriptArguments); infrastructure settings go under `{PLATFORM_KEY}`."
        )
        return "\n".join(lines)


# Mistakes seen in real GPT-OSS recipes, with what to write instead.
HINTS = {
    "max_seq_length": "not an SFTConfig field (it was silently ignored by the AWS sample); write `max_length`",
    "dataset_id_or_path": "write `dataset_path` for files in the training channel or `dataset_name` for a Hub id",
    "tokenizer_name_or_path": "the tokenizer is loaded from `model_name_or_path`",
}

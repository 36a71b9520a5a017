"""Training data: files from the `training` channel (JSONL, JSON or Parquet) or a Hub dataset id.

Accepted row shapes, checked row by row (errors name the file and the row):

* `messages`: a conversation of `{role, content, thinking}` turns, as in HuggingFaceH4/Multilingual-Thinking.
  It is rendered with the model's own chat template, so for GPT-OSS the assistant's `thinking` lands in the
  harmony `analysis` channel and `content` in the `final` channel.
* the flat Multilingual-Thinking columns (`reasoning_language`, `developer`, `user`, `analysis`, `final`),
  turned into the same conversation;
* `text` (or the recipe's `dataset_text_field`): plain language-modelling text.

With `assistant_only_loss` the conversations go to TRL as they are, and TRL tokenizes them with the template's
assistant markers so that only the assistant's tokens carry labels; otherwise they are rendered to text here.

Evaluation rows come from files named `eval*`, `test*`, `valid*` or `validation*` next to the training files,
from the Hub dataset's `dataset_test_split`, or else are carved out with `eval_split_size`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


logger = logging.getLogger(__name__)

SUFFIXES = (".jsonl", ".json", ".parquet")
EVAL_FILE_PREFIXES = ("eval", "test", "valid", "validation", "dev")
ROLES = ("system", "developer", "user", "assistant", "tool")
# Harmony control tokens must never appear inside message text: the chat template would render a different
# conversation than the one in the data (and GPT-OSS's template raises on channel tags in `content`).
HARMONY_TAGS = ("<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>")
MAX_REPORTED_ERRORS = 10


class DataError(ValueError):
    """Training data the job cannot use; the message names the file and the row."""


@dataclass
class LoadedData:
    train: Any  # datasets.Dataset
    eval: Any | None
    source: str
    train_rows: int
    eval_rows: int


# ------------------------------------------------------------------
# Reading files
# ------------------------------------------------------------------


def find_data_files(path: str | Path) -> tuple[list[Path], list[Path]]:
    """Split the data files under `path` (a file or a directory) into training and evaluation files."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise DataError(f"{path}: unsupported file type {path.suffix!r}; use {', '.join(SUFFIXES)}")
        return [path], []
    if not path.is_dir():
        raise DataError(f"{path}: no such file or directory (dataset_path)")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        others = sorted(p.name for p in path.rglob("*") if p.is_file())[:5]
        raise DataError(
            f"{path}: no {', '.join(SUFFIXES)} files found" + (f" (found: {', '.join(others)})" if others else "")
        )
    eval_files = [p for p in files if p.stem.lower().startswith(EVAL_FILE_PREFIXES)]
    train_files = [p for p in files if p not in eval_files]
    if not train_files:
        raise DataError(f"{path}: only evaluation files ({', '.join(p.name for p in eval_files)}); add training data")
    return train_files, eval_files


def read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """Yield `(location, row)` for every row of a JSONL, JSON or Parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise DataError(f"{path}: not a readable Parquet file: {err}") from err
        for index, row in enumerate(table.to_pylist(), start=1):
            yield f"{path.name} row {index}", row
        return
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = None  # JSON Lines saved as .json, as `datasets` writes it
        if document is not None:
            if isinstance(document, dict) and isinstance(document.get("data"), list):
                document = document["data"]
            if not isinstance(document, list):
                raise DataError(
                    f"{path}: expected a JSON array of rows (or JSON Lines), got {type(document).__name__}"
                )
            for index, row in enumerate(document, start=1):
                yield f"{path.name} row {index}", row
            return
    row_number = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row_number += 1
        where = f"{path.name} row {row_number} (line {line_number})"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: not valid JSON: {err.msg} at column {err.colno}") from err


# ------------------------------------------------------------------
# Validating rows
# ------------------------------------------------------------------


def _check_text(value: Any, where: str, what: str, required: bool) -> str | None:
    if value is None:
        if required:
            raise DataError(f"{where}: {what} is missing")
        return None
    if not isinstance(value, str):
        raise DataError(f"{where}: {what} must be a string, got {type(value).__name__}")
    for tag in HARMONY_TAGS:
        if tag in value:
            raise DataError(
                f"{where}: {what} contains the harmony control token {tag}; put reasoning in `thinking` and the "
                "answer in `content` as plain text, the chat template adds the channels"
            )
    return value


def normalise_messages(messages: Any, where: str) -> list[dict]:
    """Validate a conversation and drop empty fields, so the chat template sees only what the row holds."""
    if not isinstance(messages, list) or not messages:
        raise DataError(f"{where}: `messages` must be a non-empty list of turns")
    out: list[dict] = []
    tool_call_seen = False
    for index, message in enumerate(messages):
        at = f"{where}: messages[{index}]"
        if not isinstance(message, dict):
            raise DataError(f"{at} must be an object with `role` and `content`, got {type(message).__name__}")
        role = message.get("role")
        if role not in ROLES:
            raise DataError(f"{at}.role is {role!r}; expected one of {', '.join(ROLES)}")
        if role in ("system", "developer") and index != 0:
            raise DataError(f"{at}: a {role} turn is only allowed first (GPT-OSS renders it as the developer message)")
        tool_calls = message.get("tool_calls")
        content = _check_text(
            message.get("content"), at, "`content`", required=not (role == "assistant" and tool_calls)
        )
        thinking = _check_text(message.get("thinking"), at, "`thinking`", required=False)
        if thinking is not None and role != "assistant":
            raise DataError(f"{at}: `thinking` is only meaningful on assistant turns (role is {role!r})")
        if role == "tool" and not tool_call_seen:
            raise DataError(f"{at}: a tool turn must follow an assistant turn with `tool_calls`")
        clean: dict[str, Any] = {"role": role}
        if content is not None:
            clean["content"] = content
        if thinking is not None:
            clean["thinking"] = thinking
        if tool_calls:
            clean["tool_calls"] = tool_calls
            tool_call_seen = True
        out.append(clean)
    if out[-1]["role"] != "assistant":
        raise DataError(
            f"{where}: the last turn is {out[-1]['role']!r}; a training conversation must end with the assistant's "
            "reply"
        )
    return out


def normalise_row(row: Any, where: str, text_field: str) -> dict:
    """Return `{"messages": [...]}` or `{"text": ...}` for one row, or raise `DataError` naming the row."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: a row must be an object, got {type(row).__name__}")
    if row.get("messages") is not None:
        return {"messages": normalise_messages(row["messages"], where)}
    if row.get("final") is not None and row.get("user") is not None:
        # Flat Multilingual-Thinking columns.
        developer = _check_text(row.get("developer"), where, "`developer`", required=False) or ""
        language = _check_text(row.get("reasoning_language"), where, "`reasoning_language`", required=False)
        system = f"reasoning language: {language}\n\n{developer}".strip() if language else developer
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": row["user"]},
            {"role": "assistant", "content": row["final"], "thinking": row.get("analysis")},
        ]
        return {"messages": normalise_messages(messages, where)}
    if row.get(text_field) is not None:
        text = _check_text(row[text_field], where, f"`{text_field}`", required=True)
        if not text.strip():
            raise DataError(f"{where}: `{text_field}` is empty")
        return {"text": text}
    keys = ", ".join(sorted(row)) or "none"
    raise DataError(
        f"{where}: expected a `messages` conversation, the Multilingual-Thinking columns (`user`, `final`, ...) or "
        f"a `{text_field}` column; found keys: {keys}"
    )


def collect_rows(located_rows, text_field: str) -> list[dict]:
    """Validate every row; report up to MAX_REPORTED_ERRORS problems together."""
    rows, errors, total_errors = [], [], 0
    for where, row in located_rows:
        try:
            rows.append(normalise_row(row, where, text_field))
        except DataError as err:
            total_errors += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(str(err))
    if errors:
        more = f"\n  ... and {total_errors - len(errors)} more" if total_errors > len(errors) else ""
        raise DataError(f"{total_errors} malformed row(s):\n  " + "\n  ".join(errors) + more)
    return rows


# ------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------


def render_rows(rows: list[dict], tokenizer, text_field: str) -> list[str]:
    """Render conversations with the tokenizer's chat template into training text."""
    texts = []
    for index, row in enumerate(rows, start=1):
        if "text" in row:
            texts.append(row["text"])
            continue
        try:
            texts.append(tokenizer.apply_chat_template(row["messages"], tokenize=False))
        except Exception as err:  # jinja raises TemplateError subclasses and TypeErrors
            raise DataError(f"row {index}: the chat template could not render the conversation: {err}") from err
    return texts


def conversations_only(rows: list[dict]) -> list[dict]:
    """The rows as conversations for TRL to tokenize with `assistant_only_loss` (it masks all but the assistant's
    output using the chat template's generation markers)."""
    out = []
    for index, row in enumerate(rows, start=1):
        if "messages" not in row:
            raise DataError(
                f"row {index}: `assistant_only_loss: true` needs conversations (`messages` or the "
                "Multilingual-Thinking columns), not plain text; set `assistant_only_loss: false` to train on text"
            )
        out.append({"messages": row["messages"]})
    return out


# ------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------


def _hub_rows(script_args) -> tuple[list, list | None]:
    from datasets import load_dataset

    dataset = load_dataset(script_args.dataset_name, name=script_args.dataset_config)
    split = script_args.dataset_train_split
    if split not in dataset:
        raise DataError(
            f"{script_args.dataset_name}: no split {split!r} (dataset_train_split); it has {', '.join(dataset)}"
        )
    train = [(f"{script_args.dataset_name}[{split}] row {i}", r) for i, r in enumerate(dataset[split], start=1)]
    test_split = script_args.dataset_test_split
    evaluation = None
    if test_split and test_split in dataset:
        evaluation = [
            (f"{script_args.dataset_name}[{test_split}] row {i}", r)
            for i, r in enumerate(dataset[test_split], start=1)
        ]
    return train, evaluation


def _eval_count(size: float, total: int) -> int:
    if size < 0:
        raise DataError(f"eval_split_size must be >= 0, got {size}")
    count = int(size) if size >= 1 else round(total * size)
    if count >= total:
        raise DataError(f"eval_split_size {size} leaves no training rows out of {total}")
    return count


def load_training_data(script_args, training_args, tokenizer) -> LoadedData:
    """Load, validate and render the training (and evaluation) rows into `datasets.Dataset`s."""
    from datasets import Dataset

    if script_args.dataset_streaming:
        raise DataError("dataset_streaming is not supported: rows are validated and split before training")
    text_field = training_args.dataset_text_field
    if script_args.dataset_path:
        train_files, eval_files = find_data_files(script_args.dataset_path)
        source = str(script_args.dataset_path)
        train_rows = collect_rows((loc for f in train_files for loc in read_rows(f)), text_field)
        eval_rows = collect_rows((loc for f in eval_files for loc in read_rows(f)), text_field) if eval_files else None
        logger.info(
            "data: %d training file(s) %s, %d evaluation file(s) %s",
            len(train_files),
            [p.name for p in train_files],
            len(eval_files),
            [p.name for p in eval_files],
        )
    elif script_args.dataset_name:
        source = script_args.dataset_name
        located_train, located_eval = _hub_rows(script_args)
        train_rows = collect_rows(located_train, text_field)
        eval_rows = collect_rows(located_eval, text_field) if located_eval else None
    else:
        raise DataError("no training data: set `dataset_path` (files or the training channel) or `dataset_name`")
    if not train_rows:
        raise DataError(f"{source}: the training data has no rows")

    if eval_rows is None and script_args.eval_split_size:
        count = _eval_count(script_args.eval_split_size, len(train_rows))
        if count:
            import random

            order = list(range(len(train_rows)))
            random.Random(training_args.seed).shuffle(order)
            held_out = set(order[:count])
            eval_rows = [r for i, r in enumerate(train_rows) if i in held_out]
            train_rows = [r for i, r in enumerate(train_rows) if i not in held_out]

    def to_dataset(rows: list[dict]):
        if training_args.assistant_only_loss:
            return Dataset.from_list(conversations_only(rows))
        return Dataset.from_dict({text_field: render_rows(rows, tokenizer, text_field)})

    train = to_dataset(train_rows)
    evaluation = to_dataset(eval_rows) if eval_rows else None
    return LoadedData(
        train=train,
        eval=evaluation,
        source=source,
        train_rows=len(train_rows),
        eval_rows=len(eval_rows) if eval_rows else 0,
    )

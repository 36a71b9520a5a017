"""Data loading: JSONL/JSON/Parquet, the Multilingual-Thinking schema, harmony rendering, errors with row numbers."""

import json
from types import SimpleNamespace

import pytest
from conftest import SAMPLE, sample_rows

from gpt_oss_train.data import DataError, collect_rows, find_data_files, load_training_data, read_rows


def script_args(path, eval_split_size=0.1, **kw):
    values = {
        "dataset_path": str(path),
        "dataset_name": None,
        "dataset_config": None,
        "dataset_streaming": False,
        "dataset_train_split": "train",
        "dataset_test_split": "test",
        "eval_split_size": eval_split_size,
    }
    values.update(kw)
    return SimpleNamespace(**values)


def training_args(**kw):
    values = {"dataset_text_field": "text", "assistant_only_loss": False, "seed": 0}
    values.update(kw)
    return SimpleNamespace(**values)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bundled_sample_is_multilingual_thinking_shaped():
    # GIVEN the bundled sample
    rows = sample_rows()

    # THEN it has the dataset's columns, several languages, and the reasoning in the assistant's `thinking`
    assert 40 <= len(rows) <= 80
    assert {"reasoning_language", "developer", "user", "analysis", "final", "messages"} <= set(rows[0])
    assert len({r["reasoning_language"] for r in rows}) >= 5
    for row in rows:
        system, user, assistant = row["messages"]
        assert system["content"].startswith(f"reasoning language: {row['reasoning_language']}")
        assert (user["content"], assistant["content"], assistant["thinking"]) == (
            row["user"],
            row["final"],
            row["analysis"],
        )


def test_sample_generator_reproduces_the_committed_file():
    import sys

    sys.path.insert(0, str(SAMPLE.parents[2] / "tools"))
    from make_sample_data import make_rows

    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_rows())
    assert SAMPLE.read_text(encoding="utf-8") == expected


def test_chat_template_puts_thinking_in_the_analysis_channel(tiny_tokenizer):
    # GIVEN a Multilingual-Thinking conversation
    row = sample_rows()[0]
    rows = collect_rows([("row 1", row)], "text")

    # WHEN rendered with GPT-OSS's chat template
    text = tiny_tokenizer.apply_chat_template(rows[0]["messages"], tokenize=False)

    # THEN the system turn is the developer message, the reasoning is in `analysis`, the answer in `final`
    assert f"<|start|>developer<|message|># Instructions\n\n{row['messages'][0]['content']}" in text
    assert f"<|start|>user<|message|>{row['user']}<|end|>" in text
    assert f"<|start|>assistant<|channel|>analysis<|message|>{row['analysis']}<|end|>" in text
    assert text.endswith(f"<|start|>assistant<|channel|>final<|message|>{row['final']}<|return|>")


def test_json_parquet_and_jsonl_load_the_same_rows(tmp_path):
    # GIVEN the sample as JSONL, a JSON array, JSON Lines named .json and Parquet (the AWS sample's non-JSONL
    # branch raised AttributeError)
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sample_rows()
    (tmp_path / "array.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    write_jsonl(tmp_path / "lines.json", rows)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")

    # WHEN each is read and validated
    loaded = {p.name: collect_rows(read_rows(p), "text") for p in [SAMPLE, *sorted(tmp_path.iterdir())]}

    # THEN all formats give identical conversations
    reference = loaded[SAMPLE.name]
    assert len(reference) == len(rows)
    for name, value in loaded.items():
        assert value == reference, name


def test_malformed_json_line_reports_row_and_line(tmp_path):
    path = tmp_path / "data.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:3]
    path.write_text(lines[0] + "\n\n" + lines[1] + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"data.jsonl row 3 \(line 4\): not valid JSON"):
        collect_rows(read_rows(path), "text")


AT = r"data.jsonl row 2 \(line 2\): "


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["messages"][2].update(role="assitant"), AT + r"messages\[2\].role is 'assitant'"),
        (lambda r: r["messages"][1].pop("content"), AT + r"messages\[1\]: `content` is missing"),
        (lambda r: r["messages"].pop(), AT + r"the last turn is 'user'"),
        (lambda r: r["messages"][1].update(thinking="hmm"), r"`thinking` is only meaningful on assistant turns"),
        (
            lambda r: r["messages"][2].update(content="<|channel|>final<|message|>x"),
            AT + r"messages\[2\]: `content` contains the harmony control token",
        ),
        (lambda r: r.update(messages="hello"), AT + r"`messages` must be a non-empty list"),
        (lambda r: r.clear() or r.update(prompt="x"), AT + r"expected a `messages` conversation.*found keys: prompt"),
    ],
)
def test_malformed_rows_report_the_row_number(tmp_path, mutate, message):
    # GIVEN a file whose second row is broken
    rows = sample_rows()[:3]
    mutate(rows[1])
    path = write_jsonl(tmp_path / "data.jsonl", rows)

    # WHEN / THEN validation names the file and the row
    with pytest.raises(DataError, match=message):
        collect_rows(read_rows(path), "text")


def test_all_malformed_rows_are_reported_together(tmp_path):
    rows = sample_rows()[:5]
    for row in rows[1:4]:
        row["messages"][2]["role"] = "bot"
    path = write_jsonl(tmp_path / "data.jsonl", rows)
    with pytest.raises(DataError) as err:
        collect_rows(read_rows(path), "text")
    assert "3 malformed row(s)" in str(err.value)
    assert all(f"row {n} (line {n}):" in str(err.value) for n in (2, 3, 4))


def test_flat_multilingual_thinking_columns_and_text_rows(tmp_path):
    # GIVEN a row with only the flat columns and a plain-text row
    row = {k: v for k, v in sample_rows()[0].items() if k != "messages"}
    rows = collect_rows([("r1", row), ("r2", {"text": "plain text"})], "text")

    # THEN the flat row becomes the same conversation as its `messages`
    assert rows[0]["messages"] == collect_rows([("r", sample_rows()[0])], "text")[0]["messages"]
    assert rows[1] == {"text": "plain text"}


def test_eval_split_size_is_a_fraction_or_a_count_not_a_hard_coded_900_100(tiny_tokenizer):
    # The AWS sample used rows 0-899 for training and 900-999 for evaluation whatever the data size.
    total = len(sample_rows())
    fraction = load_training_data(script_args(SAMPLE, 0.2), training_args(), tiny_tokenizer)
    count = load_training_data(script_args(SAMPLE, 5), training_args(), tiny_tokenizer)
    none = load_training_data(script_args(SAMPLE, 0), training_args(), tiny_tokenizer)
    assert (fraction.train_rows, fraction.eval_rows) == (total - 14, 14)
    assert (count.train_rows, count.eval_rows) == (total - 5, 5)
    assert (none.train_rows, none.eval_rows, none.eval) == (total, 0, None)
    with pytest.raises(DataError, match="leaves no training rows"):
        load_training_data(script_args(SAMPLE, total), training_args(), tiny_tokenizer)


def test_eval_files_in_the_channel_are_the_eval_split(tmp_path, tiny_tokenizer):
    # GIVEN a channel directory with a training file and a validation file
    rows = sample_rows()
    write_jsonl(tmp_path / "train.jsonl", rows[:50])
    write_jsonl(tmp_path / "validation.jsonl", rows[50:])
    assert [p.name for ps in find_data_files(tmp_path) for p in ps] == ["train.jsonl", "validation.jsonl"]

    # WHEN loaded
    data = load_training_data(script_args(tmp_path), training_args(), tiny_tokenizer)

    # THEN the validation file is the eval set, untouched by eval_split_size
    assert (data.train_rows, data.eval_rows) == (50, len(rows) - 50)
    assert "<|channel|>analysis<|message|>" in data.train[0]["text"]


def test_empty_channel_and_unsupported_files_fail(tmp_path, tiny_tokenizer):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"no \.jsonl, \.json, \.parquet files found \(found: notes.txt\)"):
        find_data_files(tmp_path)
    with pytest.raises(DataError, match="unsupported file type '.txt'"):
        find_data_files(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="no training data"):
        load_training_data(script_args(None, dataset_path=None), training_args(), tiny_tokenizer)


def test_assistant_only_loss_hands_conversations_to_the_trainer(tmp_path, tiny_tokenizer):
    # GIVEN assistant_only_loss: TRL tokenizes and masks the conversations itself (tests/test_training.py checks
    # the labels of a batch that came out of the trainer)
    data = load_training_data(script_args(SAMPLE, 0), training_args(assistant_only_loss=True), tiny_tokenizer)

    # THEN the rows reach the trainer as conversations, the reasoning in the assistant's `thinking`
    first = data.train[0]["messages"]
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert first[2]["thinking"] == sample_rows()[0]["analysis"]

    # AND plain-text rows are refused with what to do
    write_jsonl(tmp_path / "text.jsonl", [{"text": "just text"}])
    with pytest.raises(DataError, match="assistant_only_loss: true` needs conversations"):
        load_training_data(
            script_args(tmp_path / "text.jsonl", 0), training_args(assistant_only_loss=True), tiny_tokenizer
        )


def test_the_prepare_data_manifest_in_the_channel_is_not_read_as_data(tmp_path):
    # prepare-data writes prepared-dataset.manifest (JSON) next to the data it uploads (lib/config/prepared-dataset.ts)
    write_jsonl(tmp_path / "train.jsonl", sample_rows()[:5])
    (tmp_path / "prepared-dataset.manifest").write_text('{"format": 1, "file": {"path": "train.jsonl"}}')
    assert find_data_files(tmp_path) == ([tmp_path / "train.jsonl"], [])

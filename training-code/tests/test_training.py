"""Training the tiny GPT-OSS on CPU through sft.main: LoRA on attention and experts, full fine-tune, merge."""

import json

import pytest
import torch
from conftest import EXPERTS, base_recipe, run_sft
from safetensors.torch import load_file

from gpt_oss_train.recipe import RecipeError


def logged_losses(trainer) -> list[float]:
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_model_dir):
    """One LoRA run (attention + experts) with the merge, shared by the assertions below."""
    tmp_path = tmp_path_factory.mktemp("lora-run")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_sft(tmp_path, monkeypatch, base_recipe(tiny_model_dir))


def test_loss_goes_down(lora_run):
    losses = logged_losses(lora_run.trainer)
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < 0.7 * sum(losses[:2]) / 2, losses
    assert lora_run.metrics["eval_loss"] < losses[0]


def test_attention_and_expert_lora_weights_change(lora_run):
    # GIVEN the saved adapter (PEFT initialises every lora_B to zero)
    weights = load_file(lora_run.model_dir / "adapter" / "adapter_model.safetensors")
    lora_b = {name: tensor for name, tensor in weights.items() if "lora_B" in name}

    # THEN attention projections and both expert parameters of every layer have LoRA weights that moved
    attention = [n for n in lora_b if ".self_attn." in n]
    experts = [n for n in lora_b if ".mlp.experts." in n]
    assert {p for n in attention for p in ("q_proj", "k_proj", "v_proj", "o_proj") if p in n} == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
    }
    assert len(experts) == 2 * 2  # gate_up_proj and down_proj of both layers
    for name in attention + experts:
        assert lora_b[name].abs().sum() > 0, f"{name} did not change"


def test_merged_model_is_bf16_includes_the_expert_lora_and_generates(lora_run, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = lora_run.model_dir
    # GIVEN the job output: merged model at the root, adapter below, evaluation.json
    config = json.loads((model_dir / "config.json").read_text())
    assert config["dtype"] == "bfloat16" and config["use_cache"] is True
    assert "quantization_config" not in config
    saved = load_file(model_dir / "model.safetensors")
    assert {t.dtype for t in saved.values()} == {torch.bfloat16}
    # the unquantized names transformers and vLLM read, not the base's MXFP4 `*_blocks` / `*_scales`
    for layer in range(2):
        for name in EXPERTS:
            assert f"model.layers.{layer}.{name}" in saved and f"model.layers.{layer}.{name}_bias" in saved
    assert not [n for n in saved if n.endswith(("_blocks", "_scales"))]
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    assert evaluation["eval_loss"] > 0 and evaluation["train_loss"] > 0 and evaluation["global_step"] == 30
    merge = json.loads((model_dir / "training_run.json").read_text())["merge"]
    # every LoRA-targeted weight was checked against base + adapter delta, and the output reloaded unchanged
    checked = merge["merge_check"]
    assert {f"model.layers.{i}.{p}" for i in range(2) for p in EXPERTS} <= set(checked)
    assert all(c["max_update"] > 0 for c in checked.values())
    assert merge["reload"] == {
        "tensors": len(saved),
        "bytes": merge["reload"]["bytes"],
        "reloaded_in_clean_process": True,
    }

    # WHEN the adapter is merged again here, in float32, as a reference
    merged = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    reference = PeftModel.from_pretrained(base, model_dir / "adapter").merge_and_unload()
    original = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)

    # THEN the served (bf16) expert and attention weights carry the LoRA update (unsloth-zoo#885 dropped it)
    served, expected, before = (dict(m.named_parameters()) for m in (merged, reference, original))
    for layer in range(2):
        for name in [f"model.layers.{layer}.{p}" for p in EXPERTS] + [f"model.layers.{layer}.self_attn.q_proj.weight"]:
            update = (expected[name] - before[name]).abs().max()
            assert update > 1e-3, name
            assert (served[name] - expected[name]).abs().max() < 0.05 * update + 1e-2, name

    # AND the merged model's predictions follow base + adapter, not the base
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    ids = tokenizer("<|start|>user<|message|>What is 2 + 2?<|end|><|start|>assistant", return_tensors="pt")
    with torch.no_grad():
        served_logits, reference_logits, base_logits = (m(**ids).logits for m in (merged, reference, original))
    assert (served_logits - reference_logits).abs().mean() < 0.2 * (served_logits - base_logits).abs().mean()

    # AND the merged model reloads and generates with the harmony chat template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 2 + 2?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = merged.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_max_length_is_honoured_with_and_without_packing(tmp_path, monkeypatch, tiny_model_dir):
    # GIVEN max_length 64 (rendered examples are ~130 tokens; the AWS sample's max_seq_length was ignored)
    recipe = base_recipe(tiny_model_dir, max_length=64, max_steps=2, logging_steps=1, eval_split_size=0)
    recipe["merge_adapter"] = False

    # WHEN trained without packing, then with wrapped packing
    plain = run_sft(tmp_path / "plain", monkeypatch, recipe)
    packed = run_sft(tmp_path / "packed", monkeypatch, {**recipe, "packing": True, "packing_strategy": "wrapped"})

    # THEN every training sequence is cut to 64 tokens, and packed ones are exactly 64
    plain_lengths = [len(ids) for ids in plain.trainer.train_dataset["input_ids"]]
    packed_lengths = sorted(len(ids) for ids in packed.trainer.train_dataset["input_ids"])
    assert max(plain_lengths) == 64
    assert set(packed_lengths[1:]) == {64}
    assert len(packed_lengths) > len(plain_lengths)  # long rows were wrapped into several sequences


def test_full_fine_tune_writes_the_model_at_the_output_root(tmp_path, monkeypatch, tiny_model_dir):
    # GIVEN a full fine-tune (the AWS sample's branch crashed on an undefined variable), from Parquet data
    import pyarrow as pa
    import pyarrow.parquet as pq
    from conftest import sample_rows

    pq.write_table(pa.Table.from_pylist(sample_rows()), tmp_path / "data.parquet")
    recipe = base_recipe(
        tiny_model_dir, use_peft=False, learning_rate=3e-3, max_steps=10, dataset_path=str(tmp_path / "data.parquet")
    )

    # WHEN trained
    result = run_sft(tmp_path, monkeypatch, recipe)

    # THEN the trained weights and tokenizer are at the root (no adapter, no merge) and they changed
    from transformers import AutoModelForCausalLM

    assert not (result.model_dir / "adapter").exists()
    assert (result.model_dir / "tokenizer.json").is_file() and (result.model_dir / "evaluation.json").is_file()
    # AND the base's MXFP4 layout did not leak into the output: unquantized names, no quantization_config
    saved = load_file(result.model_dir / "model.safetensors")
    assert "model.layers.0.mlp.experts.down_proj" in saved and not [n for n in saved if n.endswith("_blocks")]
    assert "quantization_config" not in json.loads((result.model_dir / "config.json").read_text())
    # AND the job reloaded it in a clean process and found every tensor as saved
    run = json.loads((result.model_dir / "training_run.json").read_text())
    assert run["reload"]["tensors"] == len(saved) and run["reload"]["reloaded_in_clean_process"]
    trained, info = AutoModelForCausalLM.from_pretrained(result.model_dir, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    trained_experts = trained.model.layers[0].mlp.experts.down_proj
    assert torch.equal(trained_experts, saved["model.layers.0.mlp.experts.down_proj"])
    assert not torch.equal(trained_experts, base.model.layers[0].mlp.experts.down_proj)
    losses = logged_losses(result.trainer)
    assert losses[-1] < losses[0]


def test_assistant_only_loss_puts_labels_on_assistant_tokens_only(tmp_path, monkeypatch, tiny_model_dir):
    # GIVEN TRL's own key, as the shipped recipes set it
    recipe = base_recipe(tiny_model_dir, assistant_only_loss=True, max_steps=2, eval_split_size=0, logging_steps=1)
    recipe["merge_adapter"] = False

    # WHEN trained through SFTTrainer
    result = run_sft(tmp_path, monkeypatch, recipe)
    tokenizer = result.trainer.processing_class

    # THEN in a batch from the trainer's own dataloader (its collator), labels cover exactly the assistant's turn:
    # from the `<|start|>assistant` that opens the analysis channel to the final `<|return|>`, and nothing before
    start, pad = tokenizer.convert_tokens_to_ids("<|start|>"), -100
    batch = next(iter(result.trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 4
    for ids, labels, mask in zip(
        batch["input_ids"].tolist(), batch["labels"].tolist(), batch["attention_mask"].tolist(), strict=True
    ):
        length = sum(mask)
        ids, labels = ids[:length], labels[:length]
        opens = [
            i for i, t in enumerate(ids) if t == start and tokenizer.decode(ids[i + 1 : i + 3]).startswith("assistant")
        ]
        first = opens[0]
        text = tokenizer.decode(ids)
        assert "<|start|>user<|message|>" in tokenizer.decode(ids[:first])  # the prompt is all before it
        assert set(labels[:first]) == {pad}, tokenizer.decode(
            [t for t, lab in zip(ids, labels, strict=True) if lab != pad]
        )
        assert labels[first:] == ids[first:]
        assert tokenizer.decode(ids[first:]).count("<|channel|>") == 2 and text.endswith("<|return|>")
        # AND rendering is the same on any day: the system message carries the pinned date
        assert "Current date: 2025-08-05" in text
    # AND the tokenizer saved for serving keeps the real template (today's date at inference)
    saved = (result.model_dir / "adapter" / "chat_template.jinja").read_text()
    assert 'strftime_now("%Y-%m-%d")' in saved and "{% generation %}" not in saved
    assert all(entry["loss"] > 0 for entry in result.trainer.state.log_history if "loss" in entry)


def test_fails_on_expert_names_in_lora_modules_to_save(tmp_path, monkeypatch, tiny_model_dir):
    # GIVEN the AWS sample's expert list under lora_modules_to_save (parameters, not modules: trains nothing)
    recipe = base_recipe(tiny_model_dir, lora_target_parameters=None, lora_modules_to_save=["1.mlp.experts.down_proj"])

    # WHEN / THEN sft stops before loading weights and says to use lora_target_parameters
    with pytest.raises(RecipeError, match="lora_modules_to_save.*lora_target_parameters"):
        run_sft(tmp_path, monkeypatch, recipe)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attn_implementation": "kernels-community/vllm-flash-attn3"}, "no backward pass for GPT-OSS attention"),
        ({"lora_dropout": 0.05}, "lora_dropout is 0.05.*Write `lora_dropout: 0.0`"),
        ({"load_in_4bit": True}, "load_in_4bit/load_in_8bit"),
        ({"lora_target_parameters": ["mlp.router.nothing"]}, "matched no|no parameter was matched"),
    ],
)
def test_fails_fast_on_settings_that_cannot_train_gpt_oss(tmp_path, monkeypatch, tiny_model_dir, overrides, message):
    recipe = base_recipe(tiny_model_dir, **overrides)
    with pytest.raises((RecipeError, ValueError), match=message):
        run_sft(tmp_path, monkeypatch, recipe)


def test_all_linear_alone_targets_attention_only(tmp_path, monkeypatch, tiny_model_dir):
    # all-linear reaches q/k/v/o_proj only: GPT-OSS experts and router are parameters, not nn.Linear.
    recipe = base_recipe(tiny_model_dir, lora_target_parameters=None, max_steps=1, eval_split_size=0)
    recipe["merge_adapter"] = False
    result = run_sft(tmp_path, monkeypatch, recipe)
    names = [n for n, p in result.trainer.model.named_parameters() if p.requires_grad]
    assert names and all(".self_attn." in n for n in names)


def test_mlflow_run_with_provenance_tags_when_a_tracking_server_is_set(tmp_path, monkeypatch, tiny_model_dir):
    # GIVEN a tracking URI in MLFLOW_TRACKING_ARN (a local file store stands in for the SageMaker server's ARN,
    # which the sagemaker-mlflow plugin resolves the same way) and the pipeline's provenance variables
    import mlflow

    store = (tmp_path / "mlruns").as_uri()
    for key, value in {
        "MLFLOW_TRACKING_ARN": store,
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_EXPERIMENT_NAME": "tiny-recipe",
        "RECIPE_NAME": "tiny-recipe",
        "RECIPE_HASH": "abc123",
        "GIT_SHA": "0123456789abcdef",
        "DATASET_URI": "s3://bucket/datasets/tiny/",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_TAGS", "MLFLOW_RUN_ID", "MLFLOW_FLATTEN_PARAMS"):
        monkeypatch.delenv(key, raising=False)
    recipe = base_recipe(tiny_model_dir, max_steps=4, logging_steps=2)
    recipe["merge_adapter"] = False

    # WHEN trained
    result = run_sft(tmp_path, monkeypatch, recipe)

    # THEN one finished run holds the tags, the training and evaluation metrics, and its id is kept for a restart
    run_id = json.loads((tmp_path / "checkpoints" / "mlflow_run.json").read_text())["run_id"]
    run = mlflow.MlflowClient(tracking_uri=store).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert {k: run.data.tags[k] for k in ("recipe.name", "recipe.hash", "git.sha", "dataset")} == {
        "recipe.name": "tiny-recipe",
        "recipe.hash": "abc123",
        "git.sha": "0123456789abcdef",
        "dataset": "s3://bucket/datasets/tiny/",
    }
    assert run.data.metrics["eval_loss"] == pytest.approx(result.metrics["eval_loss"])
    assert "loss" in run.data.metrics and "learning_rate" in run.data.metrics
    assert json.loads((result.model_dir / "training_run.json").read_text())["mlflow_run_id"] == run_id

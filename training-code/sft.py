# /// script
# dependencies = [
#     "trl==1.16.0",
#     "peft==0.21.2",
#     "transformers==5.23.0",
#     "accelerate==1.15.0",
#     "datasets==5.2.0",
# ]
# ///
"""
Supervised fine-tuning of OpenAI GPT-OSS with TRL, for SageMaker training jobs (and any machine with a GPU).

On SageMaker the job's entrypoint is `launch.py`, which starts this script through `accelerate launch` with the
recipe from the `recipe` channel. By hand:

# LoRA on one GPU (attention and, with `lora_target_parameters`, the MoE experts)
```bash
python sft.py --config ../recipes/gpt-oss-20b-multilingual-lora.yaml --output_dir checkpoints
```

# Full fine-tune, DeepSpeed ZeRO-3 on 8 GPUs
```bash
accelerate launch --config_file configs/zero3.yaml --num_processes 8 \
    sft.py --config ../recipes/gpt-oss-20b-full.yaml --output_dir checkpoints
```

Command-line flags override the recipe (`--max_steps 100`, `--learning_rate 1e-4`). The recipe's `platform`
block is ignored here; unknown keys are errors. Outputs: checkpoints in `--output_dir` (resumed automatically),
the adapter under `$SM_MODEL_DIR/adapter`, the merged bf16 model at the root of `$SM_MODEL_DIR` (or the full
fine-tune there), reloaded in a clean process and compared tensor by tensor before the job succeeds, and
`$SM_MODEL_DIR/evaluation.json` with the final metrics.
"""

import json
import logging
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


logger = logging.getLogger("sft")


def last_complete_checkpoint(output_dir: str) -> str | None:
    """The newest `checkpoint-N` whose trainer_state.json (written last) exists, so a checkpoint cut short by a
    kill or an interrupted S3 sync is skipped rather than crashing the resume."""
    from transformers.trainer import TRAINER_STATE_NAME
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    root = Path(output_dir)
    if not root.is_dir():
        return None
    candidates = []
    for path in root.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        suffix = path.name.rsplit("-", 1)[-1]
        if path.is_dir() and suffix.isdigit():
            candidates.append((int(suffix), path))
    for _step, path in sorted(candidates, reverse=True):
        if (path / TRAINER_STATE_NAME).is_file():
            return str(path)
        logger.warning("skipping incomplete checkpoint %s (no %s)", path, TRAINER_STATE_NAME)
    return None


def run_merge(base: str, adapter_dir: Path, output_dir: Path, revision: str, trust_remote_code: bool) -> dict:
    """Merge in a fresh interpreter without the distributed environment (no process group, no ZeRO-3)."""
    from gpt_oss_train.merge import clean_environment

    code_dir = Path(__file__).resolve().parent
    env = clean_environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_dir), env.get("PYTHONPATH")]))
    summary_path = adapter_dir / "merge_summary.json"
    error_path = adapter_dir / "merge_error.txt"
    command = [
        sys.executable,
        "-m",
        "gpt_oss_train.merge",
        "--base",
        base,
        "--adapter",
        str(adapter_dir),
        "--output",
        str(output_dir),
        "--revision",
        revision,
        "--summary",
        str(summary_path),
        "--error-file",
        str(error_path),
    ]
    if trust_remote_code:
        command.append("--trust-remote-code")
    print(f"merging the adapter into {base} (bf16, clean process)", flush=True)
    done = subprocess.run(command, env=env)
    if done.returncode != 0:
        from gpt_oss_train.outputs import OutputError

        reason = error_path.read_text() if error_path.is_file() else "see the log above"
        raise OutputError(f"merging the adapter failed (exit {done.returncode}): {reason}")
    return json.loads(summary_path.read_text())


@dataclass
class RunResult:
    """What `main` leaves behind, for callers that run it in-process (the tests)."""

    trainer: object
    metrics: dict
    model_dir: Path
    train_rows: int
    eval_rows: int


def main(script_args, training_args, model_args, recipe=None) -> RunResult:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import SFTTrainer

    from gpt_oss_train.callbacks import GracefulStopCallback, MetricsLogCallback, QuietProgressCallback, RunTotals
    from gpt_oss_train.chat import training_chat_template
    from gpt_oss_train.data import load_training_data
    from gpt_oss_train.modeling import (
        build_peft_config,
        check_lora_targets,
        check_model_args,
        check_target_parameters,
        count_parameters,
        load_model,
        load_tokenizer,
    )
    from gpt_oss_train.outputs import state_digests, verify_saved
    from gpt_oss_train.tracking import configure_reporting, end_mlflow_run, provenance_tags, start_mlflow_run

    is_main = training_args.process_index == 0
    model_dir = Path(os.environ.get("SM_MODEL_DIR") or Path(training_args.output_dir) / "final")

    # ------------------------
    # Checks and tracking (before any weights are loaded)
    # ------------------------
    if not model_args.model_name_or_path:
        raise ValueError("model_name_or_path is not set (recipe key or --model_name_or_path)")
    check_model_args(model_args, training_args)
    configure_reporting(training_args)
    tags = provenance_tags(script_args)
    mlflow_run_id = start_mlflow_run(tags, training_args.output_dir) if is_main else None
    if is_main:
        print(
            f"recipe={recipe.name if recipe else '-'} model={model_args.model_name_or_path} "
            f"max_length={training_args.max_length} packing={training_args.packing} use_peft={model_args.use_peft} "
            f"lora_target_modules={model_args.lora_target_modules} "
            f"lora_target_parameters={model_args.lora_target_parameters} processes={training_args.world_size}",
            flush=True,
        )

    # ------------------------
    # Load tokenizer & data
    # ------------------------
    tokenizer = load_tokenizer(model_args, training_args)
    # Rows render with the date pinned (and TRL's assistant markers for assistant_only_loss); the saved tokenizer
    # gets the original template back before any output is written (gpt_oss_train/chat.py).
    serving_template = tokenizer.chat_template
    tokenizer.chat_template = training_chat_template(tokenizer, training_args.assistant_only_loss)
    data = load_training_data(script_args, training_args, tokenizer)
    if is_main:
        print(
            f"data: {data.train_rows} training rows, {data.eval_rows} evaluation rows from {data.source}", flush=True
        )

    # ------------------------
    # Load model
    # ------------------------
    model = load_model(model_args, training_args)
    check_target_parameters(model, model_args)
    peft_config = build_peft_config(model_args)

    # ------------------------
    # Train (resuming from the last complete checkpoint)
    # ------------------------
    stop = GracefulStopCallback()
    totals = RunTotals()
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[totals, MetricsLogCallback(), stop],
    )
    # MetricsLogCallback prints every log as a [metrics] line; the stock printers would print each twice.
    trainer.remove_callback(PrinterCallback)
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(QuietProgressCallback())
    stop.accelerator = trainer.accelerator
    totals.trainer = trainer
    stop.install()
    check_lora_targets(trainer.model, model_args)
    trainable, total = count_parameters(trainer.model)  # real sizes under ZeRO-3 partitioning too
    if is_main and model_args.use_peft:
        print(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / max(total, 1):.3f}%)", flush=True)

    resume = training_args.resume_from_checkpoint or last_complete_checkpoint(training_args.output_dir)
    if is_main:
        print(f"resuming from {resume}" if resume else "starting from step 0", flush=True)
    try:
        train_result = trainer.train(resume_from_checkpoint=resume)
    finally:
        stop.uninstall()
    if stop.stopped:
        if is_main:
            print(f"stopped at step {trainer.state.global_step} after SIGTERM; checkpoint saved", flush=True)
        trainer.accelerator.wait_for_everyone()
        end_mlflow_run(mlflow_run_id, status="KILLED")
        sys.exit(143)

    # ------------------------
    # Evaluate
    # ------------------------
    metrics = {
        # over every step of the run, also across resumes (the Trainer's own covers this session only)
        "train_loss": totals.run_train_loss(
            train_result.training_loss, trainer.state.global_step, trainer._initial_global_step
        ),
        "global_step": trainer.state.global_step,
        "epoch": trainer.state.epoch,
        **{k: v for k, v in train_result.metrics.items() if k != "train_loss"},
    }
    if data.eval is not None:
        # Reuse an evaluation the Trainer just ran at the final step (eval_strategy) instead of a second pass.
        last_eval = next((h for h in reversed(trainer.state.log_history) if "eval_loss" in h), None)
        if last_eval is not None and last_eval.get("step") == trainer.state.global_step:
            eval_metrics = {k: v for k, v in last_eval.items() if k.startswith("eval_")}
        else:
            eval_metrics = trainer.evaluate()
        metrics.update(eval_metrics)
        if "eval_loss" in eval_metrics and eval_metrics["eval_loss"] < 50:
            metrics["eval_perplexity"] = math.exp(eval_metrics["eval_loss"])

    # ------------------------
    # Save: adapter (all ranks, gathers ZeRO-3 shards), then outputs on the main process
    # ------------------------
    unwrapped = trainer.accelerator.unwrap_model(trainer.model)
    unwrapped.config.use_cache = True  # for serving; training ran with the KV cache off
    tokenizer.chat_template = serving_template
    expected = None
    if model_args.use_peft:
        trainer.save_model(str(model_dir / "adapter"))
    else:
        trainer.save_model(str(model_dir))
        # What save_model wrote, gathered the same way (a collective under ZeRO-3), to compare after a reload.
        engine = trainer.deepspeed if trainer.is_deepspeed_enabled else trainer.model
        saved_state = trainer.accelerator.get_state_dict(engine)
        expected = state_digests(saved_state) if is_main else None
        del saved_state
    trainer.accelerator.wait_for_everyone()
    trainer.end()  # destroys the process group: the merge below must not hold the other ranks in a collective
    result = RunResult(trainer, metrics, model_dir, data.train_rows, data.eval_rows)
    if not is_main:
        return result

    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "evaluation.json").write_text(json.dumps(metrics, indent=1, default=float))
    run_info = {
        "recipe": {"name": recipe.name if recipe else None, "sha256": recipe.sha256 if recipe else None},
        "tags": tags,
        "mlflow_run_id": mlflow_run_id,
        "base_model": model_args.model_name_or_path,
        "use_peft": model_args.use_peft,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "metrics": metrics,
    }
    if expected is not None:
        from gpt_oss_train.merge import clean_environment

        print("reloading the saved model in a clean process to compare every tensor", flush=True)
        run_info["reload"] = verify_saved(model_dir, expected, env=clean_environment())
    if model_args.use_peft and script_args.merge_adapter:
        run_info["merge"] = run_merge(
            model_args.model_name_or_path,
            model_dir / "adapter",
            model_dir,
            model_args.model_revision,
            training_args.trust_remote_code,
        )
    (model_dir / "training_run.json").write_text(json.dumps(run_info, indent=1, default=str))
    end_mlflow_run(mlflow_run_id)
    print(f"outputs written to {model_dir}", flush=True)
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    for noisy in ("httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from gpt_oss_train.args import make_parser
    from gpt_oss_train.data import DataError
    from gpt_oss_train.outputs import OutputError
    from gpt_oss_train.recipe import RecipeError

    try:
        parser = make_parser()
        script_args, training_args, model_args = parser.parse_args_and_config()
        main(script_args, training_args, model_args, recipe=parser.recipe)
    except (RecipeError, DataError, OutputError) as err:
        # Shown as the training job's FailureReason; one line per problem, no traceback needed.
        failure_file = os.environ.get("GPT_OSS_FAILURE_FILE")
        if failure_file and os.environ.get("RANK", "0") == "0":
            Path(failure_file).parent.mkdir(parents=True, exist_ok=True)
            Path(failure_file).write_text(str(err)[:1000])
        print(f"ERROR {err}", file=sys.stderr, flush=True)
        sys.exit(2)
    # A distributed run has written every output and destroyed its process group by now. Leave without C++
    # destructors: on CPU a finished ZeRO-3 rank sometimes aborted in teardown ("terminate called without an active
    # exception", SIGABRT), and torchrun then stopped the main rank in the middle of its merge.
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

"""Trainer callbacks: metric log lines for SageMaker, a graceful stop on SIGTERM, run totals that survive a resume."""

from __future__ import annotations

import logging
import math
import signal
import time

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState, ProgressCallback


logger = logging.getLogger(__name__)

METRICS_PREFIX = "[metrics]"
# Trainer log keys → the names printed (and parsed by metric_definitions.json).
TRAIN_KEYS = {
    "loss": "train_loss",
    "learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "mean_token_accuracy": "train_mean_token_accuracy",
    "entropy": "train_entropy",
    "aux_loss": "train_aux_loss",
    "num_tokens": "train_num_tokens",
}
SUMMARY_KEYS = {
    "train_loss": "train_loss_mean",
    "train_runtime": "train_runtime",
    "train_samples_per_second": "train_samples_per_second",
    "train_steps_per_second": "train_steps_per_second",
}


def format_value(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def metrics_line(step: int, epoch: float | None, metrics: dict) -> str:
    """`[metrics] step=10 epoch=0.5 train_loss=1.234 ...`: one line, `name=value` pairs, parsed by regex."""
    parts = [METRICS_PREFIX, f"step={step}"]
    if epoch is not None:
        parts.append(f"epoch={format_value(epoch)}")
    parts += [f"{name}={format_value(value)}" for name, value in metrics.items()]
    return " ".join(parts)


class MetricsLogCallback(TrainerCallback):
    """Print every Trainer log as one metrics line on the main process, adding training throughput
    (`train_tokens_per_second`, tokens counted across all processes)."""

    def __init__(self, printer=print):
        self._print = printer
        self._last_time = None
        self._last_tokens = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._last_time = time.monotonic()
        self._last_tokens = None if state.global_step else 0.0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        out: dict = {}
        if "loss" in logs:
            out = {TRAIN_KEYS[k]: v for k, v in logs.items() if k in TRAIN_KEYS}
            tokens = logs.get("num_tokens")
            now = time.monotonic()
            if tokens is not None and self._last_tokens is not None and self._last_time is not None:
                elapsed = now - self._last_time
                if elapsed > 0:
                    out["train_tokens_per_second"] = (tokens - self._last_tokens) / elapsed
            self._last_time, self._last_tokens = now, tokens
        elif any(k.startswith("eval_") for k in logs):
            out = {k: v for k, v in logs.items() if k.startswith("eval_")}
        elif "train_runtime" in logs:
            out = {SUMMARY_KEYS[k]: v for k, v in logs.items() if k in SUMMARY_KEYS}
        if out:
            self._print(metrics_line(state.global_step, logs.get("epoch", state.epoch), out), flush=True)


class GracefulStopCallback(TrainerCallback):
    """On SIGTERM (SageMaker stopping the job, a spot interruption), save a checkpoint at the end of the current
    step and stop, so the restarted job resumes from there. All processes agree on the step to stop at."""

    def __init__(self, accelerator=None):
        self.accelerator = accelerator
        self.requested = False
        self.stopped = False
        self._previous = None

    def install(self) -> GracefulStopCallback:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None

    def _handle(self, signum, frame):
        self.requested = True

    def _agreed(self) -> bool:
        accelerator = self.accelerator
        if accelerator is None or accelerator.num_processes <= 1:
            return self.requested
        import torch

        flag = torch.tensor([1.0 if self.requested else 0.0], device=accelerator.device)
        return bool(accelerator.reduce(flag, reduction="sum").item() > 0)

    def on_step_end(self, args, state, control, **kwargs):
        if self._agreed():
            if not self.stopped and state.is_world_process_zero:
                print(f"SIGTERM received: saving a checkpoint at step {state.global_step} and stopping", flush=True)
            self.stopped = True
            control.should_save = True
            control.should_training_stop = True
        return control


class RunTotals(TrainerCallback, ExportableState):
    """Totals over the whole run, kept in every checkpoint's trainer_state.json so a resumed job continues them:
    the tokens trained on (TRL's `num_tokens`, which a new trainer would restart from 0) and the sum of the step
    losses (transformers averages the train loss over the current session's steps only).

    The loss sum is the Trainer's running total on the main process; steps after the last logging step are
    counted from the main process's own losses (exact when save_steps is a multiple of logging_steps)."""

    def __init__(self, tokens: int = 0, loss_sum: float = 0.0):
        self.trainer = None  # set by sft.py once the trainer exists
        self.tokens = tokens
        self.loss_sum_before = loss_sum

    def state(self) -> dict:
        trainer = self.trainer
        tokens, loss_sum = self.tokens, self.loss_sum_before
        if trainer is not None and hasattr(trainer, "_tr_loss"):
            tokens = int(getattr(trainer, "_total_train_tokens", tokens))
            loss_sum += getattr(trainer, "_total_loss_scalar", 0.0) + float(trainer._tr_loss.item())
        return {"args": {"tokens": tokens, "loss_sum": loss_sum}, "attributes": {}}

    def on_train_begin(self, args, state, control, **kwargs):
        saved = (state.stateful_callbacks or {}).get(type(self).__name__)
        if state.global_step and isinstance(saved, dict):  # resumed: continue the checkpoint's totals
            self.tokens = int(saved["args"]["tokens"])
            self.loss_sum_before = float(saved["args"]["loss_sum"])
            if self.trainer is not None:
                self.trainer._total_train_tokens = self.tokens

    def run_train_loss(self, session_loss: float, global_step: int, initial_step: int) -> float:
        """The mean step loss over the whole run, from the current session's mean."""
        if not global_step:
            return session_loss
        return (self.loss_sum_before + session_loss * (global_step - initial_step)) / global_step


class QuietProgressCallback(ProgressCallback):
    """The progress bar without its copy of every log dict (MetricsLogCallback prints those as [metrics] lines)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return None

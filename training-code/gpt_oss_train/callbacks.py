"""Trainer callbacks: metric log lines for SageMaker and a graceful stop on SIGTERM."""

from __future__ import annotations

import logging
import math
import signal
import time

from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback


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


class QuietProgressCallback(ProgressCallback):
    """The progress bar without its copy of every log dict (MetricsLogCallback prints those as [metrics] lines)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return None

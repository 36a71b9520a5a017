"""Spot interruptions: a stopped (SIGTERM) or killed (SIGKILL) job restarts from its last checkpoint, not step 0,
and continues exactly as an uninterrupted run would (same losses, gradient norms, token counts and train loss)."""

import json
import re
import signal
import time

import psutil
import pytest
from conftest import base_recipe, job_root, launcher_process


METRIC_STEP = re.compile(r"^\[metrics\] step=(\d+) epoch=\S+ train_loss=")
METRIC_FIELDS = ("train_loss", "grad_norm", "train_num_tokens")


def step_metrics(lines) -> dict[int, dict[str, str]]:
    """Per logged step, the training metrics as printed (6 significant digits)."""
    out = {}
    for line in lines:
        if METRIC_STEP.match(line):
            fields = dict(part.split("=", 1) for part in line.split()[1:])
            out[int(fields["step"])] = {k: fields[k] for k in METRIC_FIELDS}
    return out


def run_until(process, predicate, timeout=300) -> list[str]:
    """Read the launcher's output until a line satisfies `predicate`; return the lines read."""
    lines, deadline = [], time.monotonic() + timeout
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if predicate(lines[-1]):
            return lines
        assert time.monotonic() < deadline, "\n".join(lines[-40:])
    raise AssertionError("the run ended before the expected line:\n" + "\n".join(lines[-40:]))


def kill_tree(process, sig) -> None:
    """What a reclaimed spot instance does: every process of the job is gone at once."""
    tree = psutil.Process(process.pid).children(recursive=True) + [psutil.Process(process.pid)]
    for proc in tree:
        try:
            proc.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


def steps_logged(lines) -> list[int]:
    return [int(m.group(1)) for m in map(METRIC_STEP.match, lines) if m]


def set_hyperparameters(root, **values):
    (root / "input" / "config" / "hyperparameters.json").write_text(json.dumps({k: str(v) for k, v in values.items()}))


def test_a_stopped_or_killed_job_resumes_from_its_last_checkpoint(tmp_path, tiny_model_dir):
    # GIVEN a job that checkpoints every 4 steps to /opt/ml/checkpoints
    # (a constant learning rate: the schedule must not depend on max_steps, which the last restart lowers)
    recipe = base_recipe(
        tiny_model_dir,
        dataset_path=None,
        logging_steps=1,
        per_device_train_batch_size=2,
        lr_scheduler_type="constant",
        save_strategy="steps",
        save_steps=4,
    )
    root = job_root(tmp_path, recipe, {})
    checkpoints = root / "checkpoints"
    hyper = {"max_steps": 400}  # a job takes only the pipeline's hyperparameters
    set_hyperparameters(root, **hyper)

    # WHEN SageMaker stops the job (SIGTERM to the container's process) after step 5
    first = launcher_process(root)
    try:
        lines = run_until(first, lambda line: (steps_logged([line]) or [0])[0] >= 5)
        first.send_signal(signal.SIGTERM)
        lines += [line.rstrip("\n") for line in first.stdout]
        first.wait(timeout=120)
    finally:
        kill_tree(first, signal.SIGKILL) if first.poll() is None else None

    # THEN it saves a checkpoint at the step it reached and exits with 128+SIGTERM
    stopped = re.search(r"saving a checkpoint at step (\d+) and stopping", "\n".join(lines))
    assert stopped and first.returncode == 143, "\n".join(lines[-30:])
    stop_step = int(stopped.group(1))
    assert (checkpoints / f"checkpoint-{stop_step}" / "trainer_state.json").is_file()

    # WHEN the job restarts, then the instance is reclaimed without warning (SIGKILL to every process) later on
    second = launcher_process(root)
    try:
        lines = run_until(second, lambda line: (steps_logged([line]) or [0])[0] >= stop_step + 9)
        resumed = step_metrics(lines)
        kill_tree(second, signal.SIGKILL)
        second.wait(timeout=60)
    finally:
        kill_tree(second, signal.SIGKILL) if second.poll() is None else None

    # THEN the restart continued from the stopped step, not from step 0
    assert f"resuming from {checkpoints}/checkpoint-{stop_step}" in "\n".join(lines)
    assert steps_logged(lines)[0] == stop_step + 1

    # WHEN the job restarts once more and runs to the end
    complete = sorted(
        int(p.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*") if (p / "trainer_state.json").is_file()
    )
    last = complete[-1]
    assert stop_step < last <= stop_step + 9  # the restart kept checkpointing every 4 steps
    set_hyperparameters(root, **{**hyper, "max_steps": last + 3})
    third = launcher_process(root)
    output, _ = third.communicate(timeout=300)

    # THEN it resumes from the newest complete checkpoint and finishes the remaining steps only
    lines = output.splitlines()
    assert third.returncode == 0, output[-3000:]
    assert f"resuming from {checkpoints}/checkpoint-{last}" in output
    assert steps_logged(lines) == [last + 1, last + 2, last + 3]
    evaluation = json.loads((root / "model" / "evaluation.json").read_text())
    assert evaluation["global_step"] == last + 3
    resumed.update(step_metrics(lines))

    # WHEN the same job runs once more from scratch, uninterrupted
    reference_root = job_root(tmp_path / "uninterrupted", recipe, {})
    set_hyperparameters(reference_root, **{**hyper, "max_steps": last + 3})
    reference = launcher_process(reference_root)
    output, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, output[-3000:]
    uninterrupted = step_metrics(output.splitlines())

    # THEN every step trained after a restart logged the same loss, gradient norm and token count as the
    # uninterrupted run: data order, optimizer state and RNG were restored, not just the step number
    assert set(resumed) == set(range(stop_step + 1, last + 4))
    for step, values in resumed.items():
        assert values == uninterrupted[step], f"step {step}: resumed {values}, uninterrupted {uninterrupted[step]}"
    # AND the reported train loss covers the whole run, not just the last session
    expected = json.loads((reference_root / "model" / "evaluation.json").read_text())
    assert evaluation["train_loss"] == pytest.approx(expected["train_loss"], rel=1e-6)

"""The base model a job reads from its `model` channel: a copy `stage-model` put in S3, proven by its manifest.

The Python side of the contract in lib/config/staged-model.ts (layout `base-models/<hub-id>/<revision>/`, the
manifest `staging-manifest.json` written last) and lib/pipeline/parameters.ts (the job environment variable
`GPT_OSS_MODEL_SOURCE`). Jobs in the platform's VPC have no internet, so the pipeline sets
`GPT_OSS_MODEL_SOURCE=channel` and the Hub offline; a missing, empty or half-staged channel then stops the job
before any GPU work, with a FailureReason that names the command that fixes it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from datetime import UTC, datetime
from pathlib import Path


STAGED_MODEL_MANIFEST = "staging-manifest.json"
MODEL_SOURCE_ENV = "GPT_OSS_MODEL_SOURCE"
DEFAULT_MODEL_REVISION = "main"


class StagedModelError(RuntimeError):
    """The `model` channel does not hold a finished staging; the message names the command to run."""


def stage_model_command(hub_id: str | None, revision: str | None) -> str:
    """The CLI command that stages `hub_id` at `revision` where the pipeline's BaseModelS3Uri points by default."""
    hub = shlex.quote(hub_id) if hub_id else "<hub-id>"
    return f"npm run cli -- stage-model {hub} --revision {shlex.quote(revision or DEFAULT_MODEL_REVISION)}"


def check_staged_model(channel: Path, hub_id: str | None, revision: str | None) -> dict:
    """The manifest of the staged model in `channel`, after checking that every file it lists arrived whole."""
    fix = (
        f"run `{stage_model_command(hub_id, revision)}` and start the pipeline again "
        "(jobs in the VPC cannot reach the Hugging Face Hub)"
    )
    if not channel.is_dir():
        raise StagedModelError(f"base model not staged: the job has no `model` channel ({channel}); {fix}")
    if not any(channel.iterdir()):
        raise StagedModelError(f"base model not staged: the `model` channel ({channel}) is empty; {fix}")
    manifest_path = channel / STAGED_MODEL_MANIFEST
    if not manifest_path.is_file():
        raise StagedModelError(
            f"base model not staged: the `model` channel ({channel}) has no {STAGED_MODEL_MANIFEST}, so its copy "
            f"never finished (stage-model writes it last); {fix}"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        sizes = {str(f["path"]): int(f["size"]) for f in files}
    except (ValueError, KeyError, TypeError) as err:
        raise StagedModelError(f"{manifest_path}: not a staging manifest ({err!r}); {fix}") from err
    if manifest.get("format") != 1 or not sizes:
        raise StagedModelError(f"{manifest_path}: expected format 1 with a non-empty file list; {fix}")
    for name, size in sorted(sizes.items()):
        path = channel / name
        found = path.stat().st_size if path.is_file() else None
        if found != size:
            what = "is missing" if found is None else f"has {found} bytes"
            raise StagedModelError(f"{manifest_path}: {name} {what}, the manifest says {size} bytes; {fix}")
    return manifest


def write_local_manifest(channel: Path, repo_id: str, revision: str = DEFAULT_MODEL_REVISION) -> Path:
    """A manifest for a checkpoint written on this machine (the local run), so it passes the job's check.

    It has no `commitSha`: a local checkpoint has no Hub commit to record.
    """
    files = []
    for path in sorted(p for p in channel.rglob("*") if p.is_file() and p.name != STAGED_MODEL_MANIFEST):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        files.append({"path": path.relative_to(channel).as_posix(), "size": path.stat().st_size, "sha256": digest})
    manifest = {
        "format": 1,
        "repoId": repo_id,
        "revision": revision,
        "source": "dir",
        "stagedAt": datetime.now(UTC).isoformat(),
        "files": files,
        "skipped": [],
    }
    target = channel / STAGED_MODEL_MANIFEST
    target.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return target

"""A CPU stand-in for the platform's serving container, for the local run and tests. It is not vLLM.

    SM_VLLM_MODEL=DIR SM_VLLM_SERVED_MODEL_NAME=NAME SM_VLLM_MAX_MODEL_LEN=N \\
        python -m gpt_oss_train.serving --host 127.0.0.1 --port 8080

The endpoints this platform deploys run the vLLM serving container, which turns its `SM_VLLM_*` environment
(lib/recipes/serving-plan.ts) into `vllm serve` flags, loads the merged model SageMaker placed at /opt/ml/model,
and answers `GET /ping` and `POST /invocations` (an OpenAI chat completion). This process keeps that contract on
one CPU so the local loop can register, deploy and chat with what training wrote:

* the same environment: SM_VLLM_MODEL (the model directory), SM_VLLM_SERVED_MODEL_NAME, SM_VLLM_MAX_MODEL_LEN;
  SM_VLLM_TENSOR_PARALLEL_SIZE and SM_VLLM_GPU_MEMORY_UTILIZATION are accepted and reported as not applicable on
  CPU; any other SM_VLLM_* is printed as ignored locally; the model loads offline, as HF_HUB_OFFLINE=1 makes it;
* the model directory loaded with transformers (in float32 on CPU), and only then the port opened: no answer on
  /ping means "still loading", as the platform's health check reads it;
* the request format and the `chat.completion` response (gpt_oss_train/serving_protocol.py), the prompt rendered
  with the directory's own chat template, the context-length check against SM_VLLM_MAX_MODEL_LEN, generation
  that stops at GPT-OSS's stop tokens, and the reasoning/content split of the harmony output
  (gpt_oss_train/harmony_output.py).

Not reproduced: batching, paged attention, CUDA, streaming, tools, logprobs, stop strings, n > 1, and vLLM's own
harmony prompt renderer (this renders the chat template). One request generates at a time. docs/local-serving.md
has the details and sources.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .harmony_output import HarmonyFormatError, split_reasoning
from .serving_protocol import ApiError, ChatRequest, chat_completion, context_length_error, parse_chat_request


MODEL = "SM_VLLM_MODEL"
SERVED_MODEL_NAME = "SM_VLLM_SERVED_MODEL_NAME"
MAX_MODEL_LEN = "SM_VLLM_MAX_MODEL_LEN"
NOT_APPLICABLE = {
    "SM_VLLM_TENSOR_PARALLEL_SIZE": "one CPU process, no tensor parallelism",
    "SM_VLLM_GPU_MEMORY_UTILIZATION": "no GPU, no KV-cache pre-allocation",
}
HARMONY_STOP_TOKENS = ("<|return|>", "<|call|>")
MODEL_DIR_HINT = (
    "it must hold the merged model as the training job writes it (config.json, *.safetensors, tokenizer files with "
    "the chat template), i.e. the registered model's S3 prefix downloaded"
)


class ServingConfigError(Exception):
    """The environment or the model directory cannot be served; the process exits non-zero with this line."""


@dataclass
class ServingConfig:
    model_dir: Path
    served_model_name: str
    max_model_len: int | None
    notes: list[str] = field(default_factory=list)


def read_config(env: dict[str, str]) -> ServingConfig:
    """The serving settings from the container environment; raise ServingConfigError naming the variable."""
    model = env.get(MODEL, "")
    if not model:
        raise ServingConfigError(f"{MODEL} is not set; set it to the model directory ({MODEL_DIR_HINT})")
    model_dir = Path(model)
    if not model_dir.is_dir():
        raise ServingConfigError(f"{MODEL}={model}: no such directory; {MODEL_DIR_HINT}")
    if not any(model_dir.iterdir()):
        raise ServingConfigError(f"{MODEL}={model}: the directory is empty; {MODEL_DIR_HINT}")
    if not (model_dir / "config.json").is_file():
        raise ServingConfigError(f"{MODEL}={model}: no config.json in the directory; {MODEL_DIR_HINT}")
    max_model_len = None
    raw = env.get(MAX_MODEL_LEN)
    if raw:
        try:
            max_model_len = int(raw)
        except ValueError:
            max_model_len = 0
        if max_model_len < 1:
            raise ServingConfigError(f"{MAX_MODEL_LEN}={raw}: expected a positive integer (tokens of prompt + reply)")
    notes = []
    for name in sorted(k for k in env if k.startswith("SM_VLLM_")):
        if name in NOT_APPLICABLE:
            notes.append(f"{name}={env[name]}: accepted, not applicable on CPU ({NOT_APPLICABLE[name]})")
        elif name not in (MODEL, SERVED_MODEL_NAME, MAX_MODEL_LEN):
            flag = "--" + name.removeprefix("SM_VLLM_").lower().replace("_", "-")
            notes.append(f"{name}={env[name]}: ignored locally (the container passes it to vllm serve as {flag})")
    if env.get("HF_HUB_OFFLINE") != "1":
        notes.append("HF_HUB_OFFLINE is not 1; the stand-in loads from the model directory only, offline, regardless")
    # vLLM serves under the --model value unless --served-model-name is given
    return ServingConfig(model_dir, env.get(SERVED_MODEL_NAME) or model, max_model_len, notes)


class Engine:
    """The loaded model and tokenizer; renders, checks and generates one request at a time."""

    def __init__(self, config: ServingConfig):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(config.model_dir, local_files_only=True)
        if not self.tokenizer.chat_template:
            raise ServingConfigError(
                f"{MODEL}={config.model_dir}: the tokenizer has no chat template; {MODEL_DIR_HINT}"
            )
        # float32: bf16 matmuls are several times slower on most CPUs; upcasting the bf16 checkpoint is exact
        self.model = AutoModelForCausalLM.from_pretrained(config.model_dir, dtype=torch.float32, local_files_only=True)
        self.model.eval()
        self.max_model_len = config.max_model_len or int(self.model.config.max_position_embeddings)
        self.stop_ids = self._stop_ids()
        self.defaults = self._sampling_defaults()
        self.lock = threading.Lock()
        self.torch = torch

    def _stop_ids(self) -> list[int]:
        """GPT-OSS's stop tokens (end of answer, tool call) and every EOS the checkpoint names."""
        ids: list[int] = []
        eos = self.model.generation_config.eos_token_id
        for value in [*(eos if isinstance(eos, list) else [eos]), self.tokenizer.eos_token_id]:
            if value is not None and value not in ids:
                ids.append(int(value))
        for token in HARMONY_STOP_TOKENS:
            value = self.tokenizer.convert_tokens_to_ids(token)
            if value is not None and value != self.tokenizer.unk_token_id and value not in ids:
                ids.append(int(value))
        return ids

    def _sampling_defaults(self) -> dict:
        """Like vLLM (`--generation-config auto`): temperature/top_p from generation_config.json when it sets them."""
        path = self.config.model_dir / "generation_config.json"
        saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return {k: saved[k] for k in ("temperature", "top_p") if k in saved}

    def describe(self) -> str:
        params = sum(p.numel() for p in self.model.parameters())
        return f"{params:,} parameters, {self.model.dtype}, max_model_len {self.max_model_len}"

    def render(self, request: ChatRequest) -> list[int]:
        kwargs = {"reasoning_effort": request.reasoning_effort} if request.reasoning_effort else {}
        try:
            text = self.tokenizer.apply_chat_template(
                request.messages, tokenize=False, add_generation_prompt=True, **kwargs
            )
        except Exception as err:  # the template raises on conversations it cannot render
            raise ApiError(HTTPStatus.BAD_REQUEST, f"the chat template cannot render these messages: {err}") from err
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def complete(self, request: ChatRequest) -> tuple[dict, str]:
        """The chat.completion for a checked request, and a short summary for the log line. One at a time: the
        model generates for one request, and a fast tokenizer must not be used from two threads at once."""
        with self.lock:
            return self._complete(request)

    def _complete(self, request: ChatRequest) -> tuple[dict, str]:
        prompt_ids = self.render(request)
        error = context_length_error(len(prompt_ids), request.max_tokens, self.max_model_len)
        if error:
            raise error
        max_new = request.max_tokens or self.max_model_len - len(prompt_ids)
        completion_ids = self.generate(prompt_ids, max_new, request)
        last = completion_ids[-1] if completion_ids else None
        finish_reason = "stop" if last in self.stop_ids else "length"
        # vLLM reports the matched stop token id, except for the tokenizer's own EOS
        stop_reason = last if finish_reason == "stop" and last != self.tokenizer.eos_token_id else None
        text = self.tokenizer.decode(completion_ids, skip_special_tokens=False)
        try:
            reasoning, content = split_reasoning(text)
        except HarmonyFormatError as err:
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"the completion is not valid harmony: {err}") from err
        body = chat_completion(
            self.config.served_model_name,
            reasoning,
            content,
            finish_reason,
            stop_reason,
            prompt_ids,
            completion_ids,
            request.return_token_ids,
        )
        return body, f"prompt_tokens={len(prompt_ids)} completion_tokens={len(completion_ids)} finish={finish_reason}"

    def generate(self, prompt_ids: list[int], max_new_tokens: int, request: ChatRequest) -> list[int]:
        torch = self.torch
        inputs = torch.tensor([prompt_ids], dtype=torch.long)
        options = {
            "max_new_tokens": max_new_tokens,
            "eos_token_id": self.stop_ids,
            "pad_token_id": self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.stop_ids[0],
        }
        if request.temperature == 0:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:  # vLLM samples without top-k unless asked
            options.update(do_sample=True, temperature=request.temperature, top_p=request.top_p, top_k=0)
        with torch.no_grad():
            if request.seed is not None:
                torch.manual_seed(request.seed)
            output = self.model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), **options)
        return output[0, len(prompt_ids) :].tolist()


def make_handler(engine: Engine):
    class Handler(BaseHTTPRequestHandler):
        server_version = "gpt-oss-local-serving"
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: dict | None) -> None:
            data = b"" if body is None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _log(self, status: int, started: float, summary: str = "") -> None:
            seconds = time.monotonic() - started
            print(f"{self.command} {self.path} {status} {summary} {seconds:.2f} s".replace("  ", " "), flush=True)

        def _route(self) -> None:
            started = time.monotonic()
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0  # then the body is empty, and not valid JSON
            body = self.rfile.read(length) if length > 0 else b""
            if self.path == "/ping" and self.command in ("GET", "POST"):
                self._send(HTTPStatus.OK, None)
                self._log(HTTPStatus.OK, started)
                return
            if self.path != "/invocations" or self.command != "POST":
                # the answers of vLLM's web framework (FastAPI) for an unknown path or method
                status = HTTPStatus.METHOD_NOT_ALLOWED if self.path == "/invocations" else HTTPStatus.NOT_FOUND
                self._send(status, {"detail": status.phrase})
                self._log(status, started)
                return
            try:
                request = parse_chat_request(body, engine.config.served_model_name, engine.defaults)
                if request.ignored:
                    print(f"request fields ignored locally: {', '.join(request.ignored)}", flush=True)
                response, summary = engine.complete(request)
            except ApiError as err:
                self._send(err.status, err.body())
                self._log(err.status, started, err.message[:200])
                return
            except Exception as err:  # never a stack trace to the client; the log keeps it
                traceback.print_exc(file=sys.stderr)
                failure = ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"generation failed: {type(err).__name__}: {err}")
                self._send(failure.status, failure.body())
                self._log(failure.status, started, failure.message[:200])
                return
            self._send(HTTPStatus.OK, response)
            self._log(HTTPStatus.OK, started, summary)

        do_GET = do_POST = _route

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass  # one line per request is written by _log

    return Handler


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:300] if text else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="the serving container listens on 8080")
    args = parser.parse_args(argv)
    # the container runs with HF_HUB_OFFLINE=1; the stand-in never reaches the Hub either
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        config = read_config(dict(os.environ))
    except ServingConfigError as err:
        print(f"ERROR {err}", file=sys.stderr)
        return 2
    for note in config.notes:
        print(note, flush=True)
    started = time.monotonic()
    try:
        engine = Engine(config)
    except ServingConfigError as err:
        print(f"ERROR {err}", file=sys.stderr)
        return 2
    except Exception as err:
        print(
            f"ERROR {MODEL}={config.model_dir}: the model cannot be loaded ({_first_line(err)}); {MODEL_DIR_HINT}",
            file=sys.stderr,
        )
        return 2
    try:
        server = ThreadingHTTPServer((args.host, args.port), make_handler(engine))
    except OSError as err:
        print(f"ERROR cannot listen on {args.host}:{args.port} ({err}); pick a free port with --port", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(
        f"loaded {config.model_dir} ({engine.describe()}) in {time.monotonic() - started:.1f} s; serving "
        f"{config.served_model_name!r} on http://{args.host}:{server.server_address[1]} (GET /ping, POST /invocations)"
        " - a CPU stand-in for the vLLM serving container, not vLLM",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

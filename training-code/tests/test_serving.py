"""The local serving stand-in (gpt_oss_train/serving.py): the harmony split on hand-written completions, the
environment contract, and the real server process over HTTP with a tiny GPT-OSS that learned one harmony reply."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CODE_DIR, conversations

from gpt_oss_train.harmony_output import HarmonyFormatError, split_reasoning
from gpt_oss_train.serving import ServingConfigError, read_config


SERVED = "tiny-gpt-oss-lora"
MAX_MODEL_LEN = 512
MAX_TRAIN_STEPS = 150


# --- the harmony split (vLLM's parse_chat_output rules), on completions as the tokenizer decodes them ---------

ANALYSIS = "<|channel|>analysis<|message|>The user asks for the capital. It is Oslo."
FINAL = "<|start|>assistant<|channel|>final<|message|>The capital of Norway is Oslo."


@pytest.mark.parametrize(
    "text, expected",
    [
        # analysis then final, stopped at <|return|>
        (
            f"{ANALYSIS}<|end|>{FINAL}<|return|>",
            ("The user asks for the capital. It is Oslo.", "The capital of Norway is Oslo."),
        ),
        # cut off by max_tokens inside the analysis: all of it is reasoning, no content
        ("<|channel|>analysis<|message|>The user asks for", ("The user asks for", None)),
        # an analysis message the model closed with <|return|> (what a briefly trained tiny model says)
        ("<|channel|>analysis<|message|>Try a .<|return|>", ("Try a .", None)),
        # cut off inside the final message: the part written so far is content
        (
            f"{ANALYSIS}<|end|><|start|>assistant<|channel|>final<|message|>The cap",
            ("The user asks for the capital. It is Oslo.", "The cap"),
        ),
        # final only: content, no reasoning (by channel, not by position)
        ("<|channel|>final<|message|>Oslo.<|return|>", (None, "Oslo.")),
        # no channel at all: the text never leaves the message header, so neither field has text
        ("Oslo is the capital.<|return|>", (None, None)),
        # several analysis messages are joined with newlines; a preamble (commentary, no recipient) is content
        (
            "<|channel|>analysis<|message|>one<|end|><|start|>assistant<|channel|>analysis<|message|>two<|end|>"
            "<|start|>assistant<|channel|>commentary<|message|>Looking it up.<|end|>",
            ("one\ntwo", "Looking it up."),
        ),
        # a tool call (commentary to a function) is neither reasoning nor content
        (
            "<|channel|>analysis<|message|>need a tool<|end|><|start|>assistant to=functions.lookup"
            '<|channel|>commentary <|constrain|>json<|message|>{"q": "Norway"}<|call|>',
            ("need a tool", None),
        ),
        # an empty message body counts as nothing
        ("<|channel|>analysis<|message|><|end|>", (None, None)),
    ],
)
def test_harmony_split_follows_vllm_rules(text, expected):
    assert split_reasoning(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        (f"{ANALYSIS}<|end|>and more", "expecting start token"),
        (f"{ANALYSIS}<|end|><|start|>nobody<|message|>x", "Unknown role: nobody"),
        ("<|channel|><|message|>x", "no channel value"),
    ],
)
def test_malformed_harmony_is_an_error_like_the_parser_raises(text, message):
    with pytest.raises(HarmonyFormatError, match=message):
        split_reasoning(text)


# --- the environment contract ----------------------------------------------------------------------------------


def test_config_reads_the_container_environment(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    config = read_config(
        {
            "SM_VLLM_MODEL": str(tmp_path),
            "SM_VLLM_SERVED_MODEL_NAME": SERVED,
            "SM_VLLM_MAX_MODEL_LEN": "4096",
            "SM_VLLM_TENSOR_PARALLEL_SIZE": "8",
            "SM_VLLM_GPU_MEMORY_UTILIZATION": "0.9",
            "SM_VLLM_ENABLE_PREFIX_CACHING": "true",
            "HF_HUB_OFFLINE": "1",
        }
    )
    assert (config.model_dir, config.served_model_name, config.max_model_len) == (tmp_path, SERVED, 4096)
    notes = "\n".join(config.notes)
    assert "SM_VLLM_TENSOR_PARALLEL_SIZE=8: accepted, not applicable on CPU" in notes
    assert "SM_VLLM_GPU_MEMORY_UTILIZATION=0.9: accepted, not applicable on CPU" in notes
    assert "SM_VLLM_ENABLE_PREFIX_CACHING=true: ignored locally" in notes and "--enable-prefix-caching" in notes
    # like vLLM, the model path is the served name when no name is given
    assert read_config({"SM_VLLM_MODEL": str(tmp_path)}).served_model_name == str(tmp_path)


@pytest.mark.parametrize(
    "case, message",
    [
        ("unset", "SM_VLLM_MODEL is not set"),
        ("missing", "no such directory"),
        ("empty", "the directory is empty"),
        ("no-config", "no config.json"),
        ("bad-length", "SM_VLLM_MAX_MODEL_LEN=lots: expected a positive integer"),
    ],
)
def test_config_refuses_what_cannot_be_served(tmp_path, case, message):
    model = tmp_path / "model"
    if case in ("empty", "no-config", "bad-length"):
        model.mkdir()
    if case == "no-config":
        (model / "tokenizer.json").write_text("{}")
    if case == "bad-length":
        (model / "config.json").write_text("{}")
    env = {} if case == "unset" else {"SM_VLLM_MODEL": str(model)}
    if case == "bad-length":
        env["SM_VLLM_MAX_MODEL_LEN"] = "lots"
    with pytest.raises(ServingConfigError, match=message):
        read_config(env)


def serving_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gpt_oss_train.serving", "--host", "127.0.0.1", "--port", str(port)]


def serving_env(model_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_VLLM_")}
    env.update(
        PYTHONPATH=str(CODE_DIR),
        SM_VLLM_MODEL=str(model_dir),
        SM_VLLM_SERVED_MODEL_NAME=SERVED,
        SM_VLLM_MAX_MODEL_LEN=str(MAX_MODEL_LEN),
        SM_VLLM_TENSOR_PARALLEL_SIZE="1",
        SM_VLLM_GPU_MEMORY_UTILIZATION="0.9",
        HF_HUB_OFFLINE="1",
        **extra,
    )
    return env


@pytest.mark.parametrize("case", ["missing", "unloadable"])
def test_the_process_exits_with_one_clear_line(tmp_path, case):
    model = tmp_path / "model"
    if case == "unloadable":
        model.mkdir()
        (model / "config.json").write_text('{"model_type": "gpt_oss"}')  # no weights, no tokenizer
    done = subprocess.run(
        serving_command(free_port()), env=serving_env(model), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, done.stderr
    assert f"SM_VLLM_MODEL={model}" in errors[0]
    assert ("no such directory" if case == "missing" else "cannot be loaded") in errors[0]
    assert "registered model's S3 prefix" in errors[0]


# --- the server process, over HTTP ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prompt_and_reply() -> tuple[list[dict], dict]:
    """The first sample conversation without its answer, and the answer (`thinking`: analysis, `content`: final)."""
    conversation = conversations()[0]
    return conversation[:-1], conversation[-1]


@pytest.fixture(scope="module")
def merged_model_dir(tmp_path_factory) -> Path:
    """A tiny GPT-OSS that learned to answer the first sample prompt in harmony (analysis, then final), saved in
    bf16 with save_pretrained: the shape of the merged model the training job writes. Trained (about 40 steps)
    until the loss is low enough for a wide margin and its bf16 weights, run greedily in float32 as the server runs
    them, reproduce the reply."""
    import torch

    from gpt_oss_train.tiny import build_tiny_model, build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer(conversations())
    model = build_tiny_model(tokenizer)
    prompt, reply = prompt_and_reply()
    full = tokenizer.apply_chat_template([*prompt, reply], tokenize=False)
    prefix = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(full, add_special_tokens=False, return_tensors="pt").input_ids
    start = len(tokenizer(prefix, add_special_tokens=False).input_ids)
    labels = ids.clone()
    labels[:, :start] = -100
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(1, MAX_TRAIN_STEPS + 1):
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 10 == 0 and loss.item() < 0.005 and says_the_reply(model, ids, start):
            break
    else:
        pytest.fail(f"the tiny model did not learn the sample reply in {MAX_TRAIN_STEPS} steps")
    out = tmp_path_factory.mktemp("merged-model")
    model.to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def says_the_reply(model, ids, start: int) -> bool:
    """Whether the model, rounded to bf16 and run greedily in float32, generates ids[start:] after ids[:start]."""
    import copy

    import torch

    rounded = copy.deepcopy(model).to(torch.bfloat16).to(torch.float32).eval()
    with torch.no_grad():
        output = rounded.generate(input_ids=ids[:, :start], max_new_tokens=ids.shape[1] - start + 5, do_sample=False)
    return output[0, start:].tolist() == ids[0, start:].tolist()


def call(port: int, path: str, body=None, method: str = "POST") -> tuple[int, dict | None]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture(scope="module")
def server(merged_model_dir):
    port = free_port()
    process = subprocess.Popen(
        serving_command(port),
        env=serving_env(merged_model_dir, SM_VLLM_ENFORCE_EAGER="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            if call(port, "/ping", method="GET")[0] == 200:
                break
        except OSError:  # connection refused: still loading
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not answer /ping within 120 s")
        time.sleep(0.2)
    yield port
    process.terminate()
    output, _ = process.communicate(timeout=30)
    # what it said at start-up and one line per request
    assert "SM_VLLM_TENSOR_PARALLEL_SIZE=1: accepted, not applicable on CPU" in output
    assert "SM_VLLM_ENFORCE_EAGER=true: ignored locally" in output
    assert "POST /invocations 200 prompt_tokens=" in output
    assert "Traceback" not in output


def chat(port, **fields):
    prompt, _ = prompt_and_reply()
    return call(port, "/invocations", {"messages": prompt, "max_tokens": 120, "temperature": 0, **fields})


def test_ping_and_a_vllm_shaped_chat_completion(server, merged_model_dir):
    from transformers import AutoTokenizer

    assert call(server, "/ping", method="GET") == (200, None)
    status, body = chat(server, model=SERVED, return_token_ids=True)
    assert status == 200, body
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == SERVED and isinstance(body["created"], int)
    [choice] = body["choices"]
    message = choice["message"]
    assert message["role"] == "assistant" and message["tool_calls"] == []
    assert message["reasoning"] == message["reasoning_content"]
    # the model learned the sample's answer: the harmony split puts the analysis and the final where vLLM does
    _, reply = prompt_and_reply()
    assert (message["reasoning"], message["content"]) == (reply["thinking"], reply["content"])
    assert choice["finish_reason"] == "stop" and choice["stop_reason"] is None  # stopped at <|return|>, the EOS
    # usage: the tokenizer's count of the prompt the chat template renders, and every generated token
    tokenizer = AutoTokenizer.from_pretrained(merged_model_dir)
    prompt, _ = prompt_and_reply()
    rendered = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(rendered, add_special_tokens=False).input_ids
    assert body["prompt_token_ids"] == prompt_ids
    assert body["usage"]["prompt_tokens"] == len(prompt_ids)
    assert body["usage"]["completion_tokens"] == len(choice["token_ids"])
    assert body["usage"]["total_tokens"] == len(prompt_ids) + len(choice["token_ids"])
    assert tokenizer.decode(choice["token_ids"][-1:]) == "<|return|>"


def test_the_reply_is_what_the_model_generates(server, merged_model_dir):
    """The server runs the model: its tokens and split equal model.generate's on the same rendered prompt."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(merged_model_dir)
    model = AutoModelForCausalLM.from_pretrained(merged_model_dir, dtype=torch.float32)
    prompt, _ = prompt_and_reply()
    rendered = tokenizer.apply_chat_template(
        prompt, tokenize=False, add_generation_prompt=True, reasoning_effort="low"
    )
    inputs = tokenizer(rendered, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=120, do_sample=False)
    generated = output[0, inputs.input_ids.shape[1] :].tolist()
    status, body = chat(server, reasoning_effort="low", return_token_ids=True)
    assert status == 200, body
    assert body["choices"][0]["token_ids"] == generated
    reasoning, content = split_reasoning(tokenizer.decode(generated, skip_special_tokens=False))
    assert (body["choices"][0]["message"]["reasoning"], body["choices"][0]["message"]["content"]) == (
        reasoning,
        content,
    )
    # the prompt was rendered with the request's reasoning effort
    assert body["prompt_token_ids"] == inputs.input_ids[0].tolist()
    assert "Reasoning: low" in rendered


def test_greedy_is_deterministic_and_seeded_sampling_repeats(server):
    # two requests at once: the threaded server answers both, generating one at a time
    with ThreadPoolExecutor(2) as pool:
        first, second = [answer for _, answer in pool.map(lambda _: chat(server), range(2))]
    assert first["choices"][0]["message"] == second["choices"][0]["message"]
    sampled = [chat(server, temperature=1.0, seed=7, max_tokens=12)[1]["choices"][0]["message"] for _ in range(2)]
    assert sampled[0] == sampled[1]


def test_max_tokens_cuts_the_reply_inside_the_analysis(server):
    status, body = chat(server, max_tokens=6)
    assert status == 200
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 6
    _, reply = prompt_and_reply()
    assert choice["message"]["content"] is None
    assert reply["thinking"].startswith(choice["message"]["reasoning"]) and choice["message"]["reasoning"]


def test_bad_requests_get_vllm_errors(server):
    prompt, _ = prompt_and_reply()
    cases = [
        (b"{not json", 400, "not valid JSON"),
        ({"max_tokens": 5}, 400, "messages: field required"),
        ({"messages": []}, 400, "messages: the list is empty"),
        ({"messages": "hello"}, 400, "expected a list of chat messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, 400, "messages[0].role"),
        ({"messages": prompt, "temperature": "hot"}, 400, "temperature"),
        ({"messages": prompt, "max_tokens": 0}, 400, "max_tokens"),
        ({"messages": prompt, "reasoning_effort": "extreme"}, 400, "reasoning_effort"),
        (
            {"messages": prompt, "max_tokens": MAX_MODEL_LEN},
            400,
            "'max_tokens' or 'max_completion_tokens' is too large",
        ),
        ({"messages": [{"role": "user", "content": "Oslo " * MAX_MODEL_LEN}]}, 400, "maximum context length is 512"),
        ({"messages": prompt, "model": "another-model"}, 404, "The model `another-model` does not exist."),
    ]
    for body, status, message in cases:
        got, answer = call(server, "/invocations", body)
        assert got == status, (body, answer)
        error = answer["error"]
        assert message in error["message"], (body, error)
        assert error["code"] == status and error["param"] is None
        assert error["type"] == ("NotFoundError" if status == 404 else "BadRequestError")
    assert call(server, "/v1/unknown", {"messages": prompt}) == (404, {"detail": "Not Found"})
    assert call(server, "/invocations", method="GET") == (405, {"detail": "Method Not Allowed"})

"""The request and response format of the serving container's `/invocations`, for the local stand-in.

The vLLM serving container hands a SageMaker `/invocations` body that carries `messages` to its OpenAI chat
completion handler. This module checks such a body the way that handler's request model does (types, ranges, the
served model name) and builds the `chat.completion` object it answers with, field for field. Errors carry vLLM's
shape: `{"error": {"message", "type", "param", "code"}}` with the HTTP status in `code`.
Field names and messages follow vLLM's public source; docs/local-serving.md lists them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus


REASONING_EFFORTS = ("low", "medium", "high")
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool")
# Request fields this stand-in reads; vLLM accepts many more (logprobs, tools, ...), which are logged as ignored.
KNOWN_FIELDS = {
    "messages",
    "model",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "seed",
    "reasoning_effort",
    "stop",
    "n",
    "stream",
    "return_token_ids",
}


class ApiError(Exception):
    """An error answered to the client in vLLM's error shape."""

    def __init__(self, status: HTTPStatus, message: str, err_type: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.err_type = err_type or {
            HTTPStatus.BAD_REQUEST: "BadRequestError",
            HTTPStatus.NOT_FOUND: "NotFoundError",
        }.get(status, "InternalServerError")

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.err_type, "param": None, "code": int(self.status)}}


def bad_request(message: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, message)


@dataclass
class ChatRequest:
    messages: list[dict]
    max_tokens: int | None
    temperature: float
    top_p: float
    seed: int | None
    reasoning_effort: str | None
    return_token_ids: bool
    ignored: list[str]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text_content(content, where: str) -> str:
    """A message's content as text: a string, null, or a list of `{"type": "text", "text": ...}` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request(
                    f"{where}.content[{i}]: only text parts ({{'type': 'text', 'text': ...}}) are served"
                )
            texts.append(part["text"])
        return "".join(texts)
    raise bad_request(f"{where}.content: expected a string or a list of text parts, found {type(content).__name__}")


def _messages(value) -> list[dict]:
    if value is None:
        raise bad_request("messages: field required (a list of {role, content} chat messages)")
    if not isinstance(value, list):
        raise bad_request(f"messages: expected a list of chat messages, found {type(value).__name__}")
    if not value:
        raise bad_request("messages: the list is empty; send at least one message")
    out = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise bad_request(f"{where}: expected an object with role and content, found {type(message).__name__}")
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise bad_request(f"{where}.role: found {role!r}; expected one of {', '.join(MESSAGE_ROLES)}")
        clean = {"role": role, "content": _text_content(message.get("content"), where)}
        for key in ("thinking", "reasoning", "reasoning_content"):
            # the harmony template renders an assistant turn's reasoning from `thinking`
            if isinstance(message.get(key), str) and role == "assistant":
                clean["thinking"] = message[key]
        out.append(clean)
    return out


def parse_chat_request(body: bytes, served_model_name: str, defaults: dict) -> ChatRequest:
    """Check an `/invocations` body; raise ApiError (400, or 404 for another model name) as vLLM would."""
    import json

    try:
        doc = json.loads(body.decode("utf-8") if body else "")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise bad_request(f"the request body is not valid JSON ({err})") from err
    if not isinstance(doc, dict):
        raise bad_request(f"the request body must be a JSON object, found {type(doc).__name__}")
    model = doc.get("model")
    if model is not None and model != served_model_name:
        raise ApiError(HTTPStatus.NOT_FOUND, f"The model `{model}` does not exist.")
    messages = _messages(doc.get("messages"))

    max_tokens = doc.get("max_completion_tokens", doc.get("max_tokens"))
    if max_tokens is not None and (not _is_int(max_tokens) or max_tokens < 1):
        raise bad_request(f"max_tokens: found {max_tokens!r}; expected an integer of at least 1")
    temperature = doc.get("temperature", defaults.get("temperature", 1.0))
    if not _is_number(temperature) or temperature < 0:
        raise bad_request(f"temperature: found {temperature!r}; expected a number of at least 0")
    top_p = doc.get("top_p", defaults.get("top_p", 1.0))
    if not _is_number(top_p) or not 0 < top_p <= 1:
        raise bad_request(f"top_p: found {top_p!r}; expected a number in (0, 1]")
    seed = doc.get("seed")
    if seed is not None and not _is_int(seed):
        raise bad_request(f"seed: found {seed!r}; expected an integer")
    effort = doc.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        raise bad_request(f"reasoning_effort: found {effort!r}; expected one of {', '.join(REASONING_EFFORTS)}")
    stop = doc.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        raise bad_request(f"stop: found {stop!r}; expected a string or a list of strings")
    if doc.get("n", 1) != 1:
        raise bad_request(f"n: found {doc.get('n')!r}; the local stand-in generates one choice per request (n: 1)")
    if doc.get("stream"):
        raise bad_request("stream: true is not served by the local stand-in; SageMaker InvokeEndpoint is not streamed")
    return_token_ids = doc.get("return_token_ids") or False
    if not isinstance(return_token_ids, bool):
        raise bad_request(f"return_token_ids: found {return_token_ids!r}; expected true or false")
    ignored = sorted(set(doc) - KNOWN_FIELDS)
    if stop:
        ignored.append("stop (accepted; stop strings are not applied locally)")
    return ChatRequest(messages, max_tokens, float(temperature), float(top_p), seed, effort, return_token_ids, ignored)


def context_length_error(prompt_tokens: int, max_tokens: int | None, max_model_len: int) -> ApiError | None:
    """vLLM's 400 when the prompt, or the prompt plus max_tokens, does not fit `--max-model-len`."""
    if prompt_tokens >= max_model_len:
        return bad_request(
            f"This model's maximum context length is {max_model_len} tokens. However, your request has "
            f"{prompt_tokens} input tokens. Please reduce the length of the input messages."
        )
    if max_tokens is not None and prompt_tokens + max_tokens > max_model_len:
        return bad_request(
            f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's maximum context "
            f"length is {max_model_len} tokens and your request has {prompt_tokens} input tokens "
            f"({max_tokens} > {max_model_len} - {prompt_tokens})."
        )
    return None


def chat_completion(
    model: str,
    reasoning: str | None,
    content: str | None,
    finish_reason: str,
    stop_reason: int | None,
    prompt_ids: list[int],
    completion_ids: list[int],
    return_token_ids: bool,
) -> dict:
    """The `chat.completion` object vLLM's chat handler returns (non-streaming, one choice, no tools)."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": None,
                    "audio": None,
                    "function_call": None,
                    "tool_calls": [],
                    "reasoning": reasoning,
                    # the deprecated name, still filled with the same value by the vLLM 0.14 the platform serves
                    # (docs/local-serving.md)
                    "reasoning_content": reasoning,
                },
                "logprobs": None,
                "finish_reason": finish_reason,
                "stop_reason": stop_reason,
                "token_ids": list(completion_ids) if return_token_ids else None,
            }
        ],
        "service_tier": None,
        "system_fingerprint": None,
        "usage": {
            "prompt_tokens": len(prompt_ids),
            "total_tokens": len(prompt_ids) + len(completion_ids),
            "completion_tokens": len(completion_ids),
            "prompt_tokens_details": None,
        },
        "prompt_logprobs": None,
        "prompt_token_ids": list(prompt_ids) if return_token_ids else None,
        "kv_transfer_params": None,
    }

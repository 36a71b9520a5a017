"""Split a GPT-OSS completion (harmony format) into reasoning and content, by the rules vLLM's chat endpoint uses.

vLLM feeds the generated token ids to openai-harmony's `StreamableParser` (role: assistant, since the prompt ends
with `<|start|>assistant`) and then, in `parse_chat_output`, joins with newlines the text of every message on the
`analysis` channel (reasoning) and every message on the `final` channel or on `commentary` without a recipient
(content); a message cut off by `max_tokens` counts by the channel it was on; an empty result is None. A
commentary message addressed to a tool (`to=functions.x`) is neither: the tool-call parser takes it.

The local serving stand-in (gpt_oss_train/serving.py) works on the decoded text instead of harmony token ids
(the tiny test model's tokenizer carries the harmony control tokens as strings, with its own ids), so this module
re-implements the parser's state machine on the control-token markers:

* the completion starts inside a message header (the role is already given by the prompt);
* `<|message|>` ends a header: its `<|channel|>NAME` sets the channel, a `to=NAME` part the recipient;
* `<|end|>`, `<|return|>` and `<|call|>` end a message; anything but `<|start|>` after that is malformed
  (harmony raises "Unexpected token ... while expecting start token", and vLLM answers with an error);
* inside a message body, every other marker is plain text, as the parser keeps it.

docs/local-serving.md lists the public sources and what differs from the token-level parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


START, END, MESSAGE, CHANNEL, CONSTRAIN, RETURN, CALL = (
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|channel|>",
    "<|constrain|>",
    "<|return|>",
    "<|call|>",
)
MESSAGE_ENDS = (END, RETURN, CALL)
ROLES = ("system", "developer", "user", "assistant", "tool")
_MARKER = re.compile(r"(<\|(?:start|end|message|channel|constrain|return|call)\|>)")
_CHANNEL_VALUE = re.compile(r"[^\s<]*")


class HarmonyFormatError(ValueError):
    """The completion breaks the harmony message grammar where openai-harmony's parser would raise."""


@dataclass
class HarmonyMessage:
    channel: str | None
    recipient: str | None
    content: str


@dataclass
class HarmonyParse:
    """Completed messages, plus the message still open when generation stopped (as the streaming parser has it)."""

    messages: list[HarmonyMessage] = field(default_factory=list)
    current_channel: str | None = None
    current_recipient: str | None = None
    current_content: str = ""


def _parse_header(header: str, role_given: bool) -> tuple[str | None, str | None]:
    """(channel, recipient) of one message header, e.g. `<|channel|>commentary to=functions.f <|constrain|>json`."""
    channel = None
    at = header.find(CHANNEL)
    if at >= 0:
        after = header[at + len(CHANNEL) :]
        value = _CHANNEL_VALUE.match(after).group(0)
        if not value:
            raise HarmonyFormatError("channel marker present but no channel value found in header")
        channel = value
        header = header[:at] + after[len(value) :]
    parts = header.replace(CONSTRAIN, f" {CONSTRAIN}").split()
    if not role_given:
        if not parts:
            raise HarmonyFormatError("message header did not contain a role")
        role = parts[0]
        if role not in ROLES and len(parts) == 1 and not role.startswith("functions."):
            raise HarmonyFormatError(f"Unknown role: {role}")
    recipient = next((part[len("to=") :] for part in parts if part.startswith("to=")), None)
    return channel, recipient


def parse_harmony(text: str) -> HarmonyParse:
    """Parse the decoded completion (special tokens kept) the way the streaming harmony parser would."""
    result = HarmonyParse()
    state, role_given, header, content = "header", True, "", ""
    channel = recipient = None
    for piece in _MARKER.split(text):
        if not piece:
            continue
        if state == "expect_start":
            if piece != START:
                raise HarmonyFormatError(f"Unexpected {piece[:40]!r} while expecting start token {START}")
            state, role_given, header = "header", False, ""
        elif state == "header":
            if piece == MESSAGE:
                channel, recipient = _parse_header(header, role_given)
                state, content = "content", ""
            else:
                header += piece
        elif piece in MESSAGE_ENDS:
            result.messages.append(HarmonyMessage(channel, recipient, content))
            state, channel, recipient = "expect_start", None, None
        else:
            content += piece
    if state == "content":
        result.current_channel, result.current_recipient, result.current_content = channel, recipient, content
    return result


def _visible(channel: str | None, recipient: str | None) -> bool:
    return channel == "final" or (channel == "commentary" and not recipient)


def split_reasoning(text: str) -> tuple[str | None, str | None]:
    """(reasoning, content) of a completion, as vLLM's `parse_chat_output` splits it; None where empty."""
    parsed = parse_harmony(text)
    reasoning = [m.content for m in parsed.messages if m.channel == "analysis"]
    content = [m.content for m in parsed.messages if _visible(m.channel, m.recipient)]
    if parsed.current_content:
        if parsed.current_channel == "analysis":
            reasoning.append(parsed.current_content)
        elif _visible(parsed.current_channel, parsed.current_recipient):
            content.append(parsed.current_content)
    return "\n".join(reasoning) or None, "\n".join(content) or None

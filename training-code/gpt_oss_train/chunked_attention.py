"""GPT-OSS attention in query chunks: the eager maths (sinks included) without a [batch, heads, L, L] score tensor.

`attn_implementation: gpt_oss_chunked` selects it (registered with transformers' AttentionInterface when this module
is imported; gpt_oss_train/modeling.py imports it before loading). Each chunk of `QUERY_CHUNK` queries attends only
to the keys its mask can reach (causal: none after the chunk's last query; sliding layers: none before the window),
and runs under activation checkpointing, so forward and backward hold one chunk's scores at a time:
[batch, heads, chunk, chunk + window] on sliding layers, [batch, heads, chunk, ≤ L] on full layers. The price is
one more attention forward in backward. Pure PyTorch: it runs on CPU and on any GPU, and
tests/test_fast_paths.py proves loss and gradients equal to eager on CPU.

The mask is transformers' boolean SDPA mask (1 byte per [query, key], shared by the heads), or none when the batch is
plain causal; then each chunk builds its causal / sliding band from positions.
"""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint


ATTENTION_NAME = "gpt_oss_chunked"
QUERY_CHUNK = 1024


def _chunk(query, key, value, allowed, sinks, scaling):
    """Eager GPT-OSS attention for one block of queries: scores, sink logit appended, softmax, sink dropped."""
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    sink = sinks.reshape(1, -1, 1, 1).expand(query.shape[0], -1, query.shape[-2], 1).to(scores.dtype)
    logits = torch.cat([scores, sink], dim=-1)
    logits = logits - logits.max(dim=-1, keepdim=True).values
    probs = torch.softmax(logits, dim=-1)[..., :-1]
    return torch.matmul(probs.to(value.dtype), value)


def _band(q_start, q_end, k_start, k_end, offset, window, device):
    """Causal (and sliding-window) band for queries [q_start, q_end) and keys [k_start, k_end): [1, 1, q, k] bool."""
    q = torch.arange(q_start, q_end, device=device).unsqueeze(-1) + offset
    k = torch.arange(k_start, k_end, device=device).unsqueeze(0)
    allowed = k <= q
    if window:
        allowed &= k > q - window
    return allowed[None, None]


def chunked_attention_forward(
    module, query, key, value, attention_mask, scaling, dropout=0.0, sliding_window=None, s_aux=None, **kwargs
):
    if dropout:
        raise ValueError(f"{ATTENTION_NAME} does not implement attention dropout (GPT-OSS trains with 0.0)")
    if s_aux is None:
        raise ValueError(f"{ATTENTION_NAME} is written for GPT-OSS attention sinks; this module has none")
    groups = query.shape[1] // key.shape[1]
    key = key.repeat_interleave(groups, dim=1)
    value = value.repeat_interleave(groups, dim=1)
    q_len, k_len = query.shape[-2], key.shape[-2]
    offset = k_len - q_len  # keys already cached before the first query (0 in training)
    chunk = getattr(module, "query_chunk", None) or QUERY_CHUNK
    recompute = torch.is_grad_enabled()
    outputs = []
    for start in range(0, q_len, chunk):
        end = min(start + chunk, q_len)
        k_start = max(0, offset + start - sliding_window + 1) if sliding_window else 0
        k_end = offset + end
        if attention_mask is None:
            allowed = _band(start, end, k_start, k_end, offset, sliding_window, query.device)
        else:
            allowed = attention_mask[:, :, start:end, k_start:k_end]
            if allowed.dtype != torch.bool:
                raise ValueError(f"{ATTENTION_NAME} expects transformers' boolean SDPA mask, got {allowed.dtype}")
        args = (query[:, :, start:end], key[:, :, k_start:k_end], value[:, :, k_start:k_end], allowed, s_aux, scaling)
        outputs.append(checkpoint(_chunk, *args, use_reentrant=False) if recompute else _chunk(*args))
    return torch.cat(outputs, dim=2).transpose(1, 2).contiguous(), None


def register() -> None:
    """Make `attn_implementation: gpt_oss_chunked` known to transformers (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(ATTENTION_NAME, chunked_attention_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, sdpa_mask)


register()

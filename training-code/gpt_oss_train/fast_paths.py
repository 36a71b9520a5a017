"""Opt-in faster training paths for GPT-OSS, chosen per recipe through keys transformers/TRL already read.

- attention: `attn_implementation: flex_attention`. transformers' flex path applies GPT-OSS's attention sinks by
  renormalising with the kernel's log-sum-exp and builds the sliding window as a block mask, so no
  [batch, heads, L, L] score tensor exists in forward or backward. PyTorch's flex attention has no backward on
  CPU, so this path needs CUDA; its equality with eager is tested on GPU only (tests/test_fast_paths.py).
- attention: `attn_implementation: gpt_oss_chunked` (gpt_oss_train/chunked_attention.py): the eager maths in query
  chunks under activation checkpointing, so one chunk's scores exist at a time. Pure PyTorch; tested equal to eager on
  CPU.
- experts: `model_init_kwargs: {experts_implementation: ...}`, passed to `from_pretrained`. transformers 5 picks
  `grouped_mm` (one grouped GEMM over all experts) when the key is absent; `eager` is the per-expert Python loop
  that transformers 4.x always ran; `batched_mm` gathers each token's expert weights and runs a batched GEMM.
  All three are tested equal on CPU, loss and gradients (tests/test_fast_paths.py).
- loss: nothing to switch. The pinned TRL always computes the loss through its fused LM head, in tiles, without
  the [tokens, vocab] logits (trl.trainer.utils.add_fused_lm_head).

See docs/training-speed.md for what is measured and what is not.
"""

from __future__ import annotations

from .recipe import RecipeError


# Attention implementations this project trains with, and what each needs.
TRAINABLE_ATTENTION = {
    "eager": "materialises [batch, heads, L, L+1] scores per layer; runs everywhere (the default)",
    "gpt_oss_chunked": "eager maths in 1024-query chunks, recomputed in backward; [batch, heads, chunk, ≤ L] scores",
    "flex_attention": "PyTorch flex attention with sinks renormalised by log-sum-exp; no L×L scores; CUDA only",
}
# `experts_implementation` values of the pinned transformers (transformers/integrations/moe.py ExpertsInterface)
# that this project has tested equal to the per-expert loop.
EXPERTS_IMPLEMENTATIONS = ("eager", "grouped_mm", "batched_mm")
EXPERTS_DEFAULT = "grouped_mm"  # what the pinned transformers resolves an absent key to


def experts_implementation(training_args) -> str:
    """The experts implementation the model will be loaded with (the recipe's `model_init_kwargs` or the default)."""
    kwargs = getattr(training_args, "model_init_kwargs", None) or {}
    return kwargs.get("experts_implementation") or EXPERTS_DEFAULT


def check_fast_paths(model_args, training_args, cuda_available: bool | None = None) -> None:
    """Reject a fast path this machine or this project cannot train with, naming the key and the fix."""
    kwargs = getattr(training_args, "model_init_kwargs", None) or {}
    if not isinstance(kwargs, dict):
        raise RecipeError(f"model_init_kwargs must be a mapping, found {type(kwargs).__name__}: {kwargs!r}")
    experts = kwargs.get("experts_implementation")
    if experts is not None and experts not in EXPERTS_IMPLEMENTATIONS:
        raise RecipeError(
            f"model_init_kwargs.experts_implementation: {experts!r} is not one this project has tested for GPT-OSS "
            f"training; write one of {list(EXPERTS_IMPLEMENTATIONS)} or remove the key (default {EXPERTS_DEFAULT})."
        )
    if "attn_implementation" in kwargs:
        raise RecipeError(
            "model_init_kwargs.attn_implementation duplicates the top-level key; write `attn_implementation:` only"
        )
    if (model_args.attn_implementation or "eager") == "flex_attention":
        if cuda_available is None:
            import torch

            cuda_available = torch.cuda.is_available()
        if not cuda_available:
            raise RecipeError(
                "attn_implementation: 'flex_attention' needs a CUDA GPU: PyTorch's flex attention has no backward "
                "pass on CPU, and transformers refuses GPT-OSS attention sinks on CPU. Write "
                "`attn_implementation: eager` for CPU runs."
            )

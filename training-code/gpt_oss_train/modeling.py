"""Loading GPT-OSS for training: MXFP4 dequantized to bf16, eager attention, LoRA that reaches the experts.

The checks here fail before any weights are loaded, for settings that would otherwise crash hours into a GPU
job or, worse, train something other than what the recipe says (see docs/facts/training.md §1–§2).
"""

from __future__ import annotations

import logging

from . import chunked_attention  # noqa: F401  (registers attn_implementation: gpt_oss_chunked with transformers)
from .fast_paths import check_fast_paths, experts_implementation
from .outputs import forget_mxfp4_layout
from .recipe import RecipeError


logger = logging.getLogger(__name__)

# Attention implementations that cannot train GPT-OSS: its attention sinks need a backward pass these lack.
UNTRAINABLE_ATTENTION = {
    "kernels-community/vllm-flash-attn3": "FlashAttention-3 has no backward pass for GPT-OSS attention sinks "
    "(Dao-AILab/flash-attention#1797) and runs on Hopper only",
    "flash_attention_3": "FlashAttention-3 has no backward pass for GPT-OSS attention sinks",
    "flash_attention_2": "transformers rejects FlashAttention-2 for GPT-OSS (no attention-sink support)",
    "sdpa": "GPT-OSS does not support SDPA (attention sinks); transformers disables it",
}
# eager and gpt_oss_chunked everywhere; flex_attention on CUDA (gpt_oss_train/fast_paths.py, tests/test_fast_paths.py).
VERIFIED_ATTENTION = ("eager", "gpt_oss_chunked", "flex_attention")
# Expert weights are `nn.Parameter`s of `GptOssExperts`, not modules: PEFT reaches them with `target_parameters`.
EXPERT_PARAMETERS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")


def check_model_args(model_args, training_args) -> None:
    """Reject model/LoRA settings that cannot train GPT-OSS correctly, with what to write instead."""
    attn = model_args.attn_implementation or "eager"
    if attn in UNTRAINABLE_ATTENTION:
        raise RecipeError(
            f"attn_implementation: {attn!r} cannot train GPT-OSS: {UNTRAINABLE_ATTENTION[attn]}. "
            "Write `attn_implementation: eager`."
        )
    if attn not in VERIFIED_ATTENTION:
        logger.warning("attn_implementation %r is not verified for GPT-OSS training by this project; eager is", attn)
    check_fast_paths(model_args, training_args)
    if model_args.load_in_4bit or model_args.load_in_8bit:
        raise RecipeError(
            "load_in_4bit/load_in_8bit (bitsandbytes) is not supported for GPT-OSS: its experts are parameters that "
            "bitsandbytes does not quantize, and MXFP4 checkpoints are already dequantized to bf16 for training. "
            "Remove the key."
        )
    if not model_args.use_peft:
        return
    for name in model_args.lora_modules_to_save or []:
        if "experts" in name:
            raise RecipeError(
                f"lora_modules_to_save: {name!r} names an expert weight; GPT-OSS experts are parameters, not "
                "modules, so this trains nothing. Write them under `lora_target_parameters` "
                f"(for example {list(EXPERT_PARAMETERS)})."
            )
    if model_args.lora_target_parameters:
        if model_args.lora_dropout:
            raise RecipeError(
                f"lora_dropout is {model_args.lora_dropout}; PEFT's LoRA on parameters (lora_target_parameters) "
                "does not support dropout. Write `lora_dropout: 0.0`."
            )
        if model_args.use_dora:
            raise RecipeError("use_dora is not supported with lora_target_parameters (PEFT ParamWrapper)")
    if not model_args.lora_target_modules and not model_args.lora_target_parameters:
        raise RecipeError("use_peft is true but neither lora_target_modules nor lora_target_parameters is set")


def resolve_dtype(model_args):
    import torch

    name = model_args.dtype
    if name in (None, "auto"):
        return torch.bfloat16
    if not hasattr(torch, name) or not isinstance(getattr(torch, name), torch.dtype):
        raise RecipeError(f"dtype: {name!r} is not a torch dtype; write `bfloat16`")
    return getattr(torch, name)


def is_mxfp4_checkpoint(config) -> bool:
    quantization = getattr(config, "quantization_config", None)
    if quantization is None:
        return False
    method = (
        quantization.get("quant_method")
        if isinstance(quantization, dict)
        else getattr(quantization, "quant_method", None)
    )
    return str(getattr(method, "value", method)) == "mxfp4"


def model_load_kwargs(model_name_or_path: str, model_args, training_args) -> dict:
    """`from_pretrained` keyword arguments: bf16, eager attention, MXFP4 dequantized, no KV cache when
    gradient checkpointing."""
    from transformers import AutoConfig, Mxfp4Config

    config = AutoConfig.from_pretrained(
        model_name_or_path, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code
    )
    if getattr(config, "model_type", None) != "gpt_oss":
        logger.warning(
            "model %s is %r, not gpt_oss; GPT-OSS-specific checks may not apply",
            model_name_or_path,
            getattr(config, "model_type", None),
        )
    kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation or "eager",
        "dtype": resolve_dtype(model_args),
        "use_cache": not training_args.gradient_checkpointing,
    }
    if is_mxfp4_checkpoint(config):
        # The MXFP4 kernels are forward-only: training needs the bf16 weights.
        kwargs["quantization_config"] = Mxfp4Config(dequantize=True)
    return kwargs


def load_model(model_args, training_args):
    from transformers import AutoModelForCausalLM

    kwargs = model_load_kwargs(model_args.model_name_or_path, model_args, training_args)
    logger.info(
        "loading %s (dtype=%s, attention=%s, experts=%s, mxfp4 dequantized=%s)",
        model_args.model_name_or_path,
        kwargs["dtype"],
        kwargs["attn_implementation"],
        experts_implementation(training_args),
        "quantization_config" in kwargs,
    )
    kwargs.update(training_args.model_init_kwargs or {})
    training_args.model_init_kwargs = None  # consumed here; SFTTrainer would warn that the model is already built
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
    # A full fine-tune saves this model: without this it would write dense experts under the MXFP4 names.
    forget_mxfp4_layout(model)
    return model


def load_tokenizer(model_args, training_args):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    if tokenizer.chat_template is None:
        raise RecipeError(f"{model_args.model_name_or_path}: the tokenizer has no chat template to render `messages`")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def build_peft_config(model_args):
    """TRL's LoRA config (which passes `lora_target_parameters` since TRL 0.26), checked against the model."""
    from trl import get_peft_config

    return get_peft_config(model_args)


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) element counts. Under ZeRO-3 a partitioned parameter's `numel()` is 0 on every rank;
    DeepSpeed keeps the real size in `ds_numel`."""
    trainable = total = 0
    for param in model.parameters():
        size = getattr(param, "ds_numel", None) or param.numel()
        total += size
        trainable += size if param.requires_grad else 0
    return trainable, total


def expert_lora_parameters(model) -> dict[str, object]:
    """LoRA weights attached to expert parameters, by name (empty when the experts are not targeted)."""
    return {n: p for n, p in model.named_parameters() if "lora_" in n and ".experts." in n}


def attention_lora_parameters(model) -> dict[str, object]:
    return {n: p for n, p in model.named_parameters() if "lora_" in n and ".self_attn." in n}


def check_target_parameters(model, model_args) -> None:
    """Every `lora_target_parameters` entry must name parameters of this model (PEFT only warns), matched the way
    PEFT matches them: the full name, or a suffix after a dot (so `7.mlp...` does not match layer 17)."""
    if not model_args.use_peft or not model_args.lora_target_parameters:
        return
    names = [n for n, _ in model.named_parameters()]
    targets = model_args.lora_target_parameters
    unmatched = [t for t in targets if not any(n == t or n.endswith("." + t) for n in names)]
    if unmatched:
        examples = [n for n in names if ".experts." in n][:2]
        raise RecipeError(
            f"lora_target_parameters {unmatched} matched no parameter of {model_args.model_name_or_path}"
            + (f" (expert parameters are named like {examples})" if examples else "")
        )


def check_lora_targets(model, model_args) -> None:
    """After wrapping: expert targets really produced trainable LoRA weights (the AWS sample's silent no-op)."""
    if not model_args.use_peft:
        return
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        raise RecipeError("LoRA targets matched nothing: no trainable parameters")
    wants_experts = any("experts" in t for t in model_args.lora_target_parameters or [])
    if wants_experts and not expert_lora_parameters(model):
        raise RecipeError(
            f"lora_target_parameters {model_args.lora_target_parameters} matched no expert parameter of this model"
        )

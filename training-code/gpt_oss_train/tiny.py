"""A tiny, randomly initialised GPT-OSS and a small harmony tokenizer, built locally for CPU runs and tests.

Nothing is downloaded: the model is `GptOssForCausalLM(GptOssConfig(...))` with the real architecture (attention
sinks, sliding/full attention layers, a top-k router over `GptOssExperts` with fused `gate_up_proj`/`down_proj`
parameters) at toy sizes, and the tokenizer is a byte-level BPE trained on the texts it will see, carrying
GPT-OSS's own chat template (the harmony format, as shipped with TRL) and its special tokens. The checkpoint is
written in the real checkpoints' MXFP4 layout unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


# GPT-OSS's harmony control tokens, with the roles they play in the real tokenizer.
BOS_TOKEN = "<|startoftext|>"
PAD_TOKEN = "<|endoftext|>"
EOS_TOKEN = "<|return|>"
SPECIAL_TOKENS = [
    PAD_TOKEN,
    BOS_TOKEN,
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|channel|>",
    "<|constrain|>",
    EOS_TOKEN,
    "<|call|>",
]


LM_HEAD_STD = 0.3
TINY_LAYERS = 2


def harmony_chat_template() -> str:
    """GPT-OSS's chat template (OpenAI's harmony renderer), as vendored by the pinned TRL release."""
    from trl.chat_template_utils import gptoss_chat_template

    return gptoss_chat_template


def _wrap(tokenizer_object):
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer_object,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=131072,
    )
    tokenizer.chat_template = harmony_chat_template()
    return tokenizer


def build_tiny_tokenizer(conversations: Iterable[list[dict]], vocab_size: int = 2048):
    """Train a byte-level BPE on the harmony rendering of `conversations` and return a fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    def blank() -> Tokenizer:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens(SPECIAL_TOKENS)
        return tok

    # Render first with an untrained tokenizer (rendering needs only the template), then learn merges on exactly
    # the text the model will be trained on, control tokens included.
    renderer = _wrap(blank())
    texts = [renderer.apply_chat_template(messages, tokenize=False) for messages in conversations]
    if not texts:
        raise ValueError("cannot build a tokenizer from an empty dataset")
    tok = blank()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return _wrap(tok)


def tiny_gpt_oss_config(vocab_size: int, **overrides):
    """A GPT-OSS config at toy size: 2 layers (one sliding-window, one full attention), 4 experts, top-2."""
    from transformers import GptOssConfig

    values = {
        "vocab_size": vocab_size,
        "hidden_size": 64,
        "intermediate_size": 64,
        "head_dim": 16,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_hidden_layers": TINY_LAYERS,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "sliding_window": 64,
        "max_position_embeddings": 131072,
        "router_aux_loss_coef": 0.01,
        "attn_implementation": "eager",
    }
    values.update(overrides)
    return GptOssConfig(**values)


def build_tiny_model(tokenizer, seed: int = 0, **overrides):
    """A randomly initialised `GptOssForCausalLM` sized for `tokenizer`, with GPT-OSS's stop tokens."""
    import torch
    from transformers import GptOssForCausalLM

    torch.manual_seed(seed)
    config = tiny_gpt_oss_config(
        len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **overrides,
    )
    model = GptOssForCausalLM(config)
    # With the default init (std 0.02) the logits of a 64-wide model are nearly uniform, and LoRA, which does not
    # touch the output head, can barely sharpen them. A wider head gives the adapter something to steer.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, LM_HEAD_STD)
    # Like the real checkpoint, generation stops at <|return|> (end of a final answer) or <|call|> (tool call).
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids(t) for t in (EOS_TOKEN, "<|call|>")]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def write_tiny_checkpoint(
    conversations: Iterable[list[dict]], output_dir: str | Path, seed: int = 0, mxfp4: bool = True
) -> Path:
    """Build the tokenizer and model and save both like a Hub checkpoint (config, safetensors, tokenizer).

    With `mxfp4` (the default) the weights are written in the layout of the real openai/gpt-oss checkpoints:
    experts as MXFP4 `*_blocks`/`*_scales`, everything else bf16, sharded with an index (gpt_oss_train/mxfp4.py).
    Otherwise `save_pretrained` writes the unquantized model."""
    from .mxfp4 import write_mxfp4_checkpoint

    output_dir = Path(output_dir)
    tokenizer = build_tiny_tokenizer(conversations)
    model = build_tiny_model(tokenizer, seed=seed)
    if mxfp4:
        write_mxfp4_checkpoint(model, output_dir)
    else:
        model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir

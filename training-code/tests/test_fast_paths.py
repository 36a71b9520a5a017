"""Each opt-in fast path trains the same model as the default: loss and gradients equal to eager on the tiny model.

Tolerances (float32 on CPU): loss within 1e-5 absolute; every gradient within 1e-4 of eager, relative to that
tensor's largest eager entry. The kernels reorder float32 sums, so bit-equality is not expected; a wrong routing,
a dropped bias or a mis-transposed weight shows up as an O(1) relative difference.
"""

from types import SimpleNamespace

import pytest
import torch

import gpt_oss_train.chunked_attention  # noqa: F401  (registers gpt_oss_chunked, as modeling.py does)
from gpt_oss_train.fast_paths import check_fast_paths, experts_implementation
from gpt_oss_train.modeling import load_model
from gpt_oss_train.recipe import RecipeError
from gpt_oss_train.tiny import tiny_gpt_oss_config


LOSS_ATOL = 1e-5
GRAD_RTOL = 1e-4
VOCAB = 300


def _loss_and_grads(device="cpu", lora=True, seq_len=40, query_chunk=None, mask=None, **config):
    """One forward/backward of a seeded tiny GPT-OSS (LoRA on attention and experts, or full), on fixed tokens."""
    from peft import LoraConfig, get_peft_model
    from transformers import GptOssForCausalLM

    torch.manual_seed(0)
    model = GptOssForCausalLM(tiny_gpt_oss_config(VOCAB, **config)).to(device)
    for layer in model.model.layers:
        layer.self_attn.query_chunk = query_chunk
    if lora:
        # init_lora_weights=False: B is random too, so the adapters change the output and get real gradients.
        lora_config = LoraConfig(
            r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", init_lora_weights=False,
            target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"],
        )  # fmt: skip
        model = get_peft_model(model, lora_config)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (2, seq_len), generator=generator).to(device)
    labels = ids if mask is None else ids.masked_fill(mask == 0, -100)
    loss = model(input_ids=ids, labels=labels, attention_mask=None if mask is None else mask.to(device)).loss
    loss.backward()
    grads = {n: p.grad.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
    return float(loss.detach()), grads


def _assert_equal(reference, candidate):
    ref_loss, ref_grads = reference
    loss, grads = candidate
    assert loss == pytest.approx(ref_loss, abs=LOSS_ATOL)
    assert grads.keys() == ref_grads.keys()
    for name, ref in ref_grads.items():
        scale = ref.abs().max().item()
        assert scale > 0, f"{name}: eager gradient is all zero, the comparison would prove nothing"
        worst = (grads[name] - ref).abs().max().item() / scale
        assert worst <= GRAD_RTOL, f"{name}: gradient differs from eager by {worst:.2e} of its scale"


@pytest.mark.parametrize("impl", ["grouped_mm", "batched_mm"])
@pytest.mark.parametrize("lora", [True, False], ids=["lora-attention+experts", "full"])
def test_expert_matmul_paths_match_the_per_expert_loop(impl, lora):
    # GIVEN the per-expert Python loop (what transformers 4.x always ran) as the reference
    reference = _loss_and_grads(lora=lora, experts_implementation="eager")
    # WHEN the same model and tokens run through the grouped / batched expert matmuls
    candidate = _loss_and_grads(lora=lora, experts_implementation=impl)
    # THEN loss and every trainable gradient (expert LoRA, attention LoRA or all weights) are equal
    _assert_equal(reference, candidate)
    assert any(".experts." in n for n in candidate[1])


def test_model_init_kwargs_selects_the_experts_path_at_load(tiny_model_dir):
    # GIVEN a recipe whose model_init_kwargs names the per-expert loop
    model_args = SimpleNamespace(
        model_name_or_path=str(tiny_model_dir), model_revision=None, attn_implementation="eager", dtype="float32"
    )
    training_args = SimpleNamespace(
        trust_remote_code=False, gradient_checkpointing=True, model_init_kwargs={"experts_implementation": "eager"}
    )
    assert experts_implementation(training_args) == "eager"
    # WHEN the MXFP4 checkpoint is loaded the way sft.py loads it
    model = load_model(model_args, training_args)
    # THEN the loaded model dispatches its experts to that path; without the key it is transformers' grouped_mm
    assert model.config._experts_implementation == "eager"
    training_args = SimpleNamespace(trust_remote_code=False, gradient_checkpointing=True, model_init_kwargs=None)
    assert load_model(model_args, training_args).config._experts_implementation == "grouped_mm"
    assert experts_implementation(training_args) == "grouped_mm"


@pytest.mark.parametrize("lora", [True, False], ids=["lora-attention+experts", "full"])
@pytest.mark.parametrize("padded", [False, True], ids=["causal", "left-and-right-padded"])
def test_chunked_attention_matches_eager_with_sinks_and_sliding_window(lora, padded):
    # 160 tokens in chunks of 48: the 64-token sliding window spans chunk borders, the last chunk is partial
    mask = None
    if padded:  # row 0 left-padded by 7, row 1 right-padded by 11: the boolean mask path, not the built band
        mask = torch.ones(2, 160, dtype=torch.long)
        mask[0, :7] = 0
        mask[1, -11:] = 0
    # GIVEN eager attention as the reference
    reference = _loss_and_grads(lora=lora, seq_len=160, mask=mask, attn_implementation="eager")
    # WHEN the same model and tokens run the chunked attention
    candidate = _loss_and_grads(
        lora=lora, seq_len=160, mask=mask, query_chunk=48, attn_implementation="gpt_oss_chunked"
    )
    # THEN loss and every gradient, the sinks' included in the full fine-tune, are equal
    _assert_equal(reference, candidate)
    if not lora:
        assert any(n.endswith("self_attn.sinks") for n in candidate[1])


def _args(attn="eager", **init_kwargs):
    return SimpleNamespace(attn_implementation=attn), SimpleNamespace(model_init_kwargs=init_kwargs or None)


def test_unknown_experts_path_is_rejected_with_the_choices():
    with pytest.raises(RecipeError, match=r"experts_implementation: 'sonicmoe'.*'grouped_mm'"):
        check_fast_paths(*_args(experts_implementation="sonicmoe"))


def test_flex_attention_needs_cuda_and_says_what_to_write():
    with pytest.raises(RecipeError, match=r"flex_attention.*no backward.*attn_implementation: eager"):
        check_fast_paths(*_args("flex_attention"), cuda_available=False)
    check_fast_paths(*_args("flex_attention"), cuda_available=True)
    check_fast_paths(*_args("eager", experts_implementation="batched_mm"), cuda_available=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="PyTorch flex attention has no backward on CPU")
@pytest.mark.parametrize("lora", [True, False], ids=["lora-attention+experts", "full"])
def test_flex_attention_matches_eager_with_sinks_and_sliding_window(lora):
    # 160 tokens > the tiny model's 64-token window, so the sliding layer's block mask and the sinks both matter.
    # GIVEN eager attention (the default) on CUDA, float32
    reference = _loss_and_grads("cuda", lora=lora, seq_len=160, attn_implementation="eager")
    # WHEN the same model runs flex attention
    candidate = _loss_and_grads("cuda", lora=lora, seq_len=160, attn_implementation="flex_attention")
    # THEN loss and gradients (including the sinks' in the full fine-tune) are equal
    _assert_equal(reference, candidate)
    if not lora:
        assert any(n.endswith("self_attn.sinks") for n in candidate[1])


def _largest_saved_for_backward(attn, seq_len, query_chunk=None):
    """numel of the largest tensor autograd keeps for backward in one forward of the tiny model (no checkpointing)."""
    from transformers import GptOssForCausalLM

    torch.manual_seed(0)
    model = GptOssForCausalLM(tiny_gpt_oss_config(VOCAB, attn_implementation=attn))
    for layer in model.model.layers:
        layer.self_attn.query_chunk = query_chunk
    ids = torch.randint(0, VOCAB, (1, seq_len), generator=torch.Generator().manual_seed(1))
    sizes = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: sizes.append(t.numel()) or t, lambda t: t):
        model(input_ids=ids, labels=ids)
    return max(sizes)


def test_chunked_attention_keeps_no_full_score_matrix_for_backward():
    seq_len, heads = 512, 4
    full_scores = heads * seq_len * seq_len
    # eager keeps [1, heads, L, L+1] probabilities for backward; the chunked path keeps nothing of that order
    assert _largest_saved_for_backward("eager", seq_len) >= full_scores
    assert _largest_saved_for_backward("gpt_oss_chunked", seq_len, query_chunk=64) < full_scores / 4

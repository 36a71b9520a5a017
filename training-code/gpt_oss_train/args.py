"""Script arguments of our own, next to TRL's `SFTConfig` and `ModelConfig`, and the recipe parser over all three.

Every field of these dataclasses is a valid top-level recipe key; `tools/export_recipe_fields.py` publishes the
list to the TypeScript recipe schema so a typo fails at pull-request time, not on a GPU. The training script
(`sft.py`), the launcher's key check and the export tool all take the dataclasses from here.
"""

from dataclasses import dataclass, field

from trl import ScriptArguments


@dataclass
class FinetuneScriptArguments(ScriptArguments):
    """
    Args:
        dataset_path (`str` or `None`):
            Local file or directory with the training data (JSONL, JSON or Parquet). On SageMaker this is the
            `training` input channel; when set it wins over `dataset_name`.
        eval_split_size (`float`):
            Share of the rows held out for evaluation when the data has no test split: a fraction in (0, 1),
            or a row count when >= 1. 0 disables evaluation.
        merge_adapter (`bool`):
            After LoRA training, merge the adapter into the bf16 base (main process only, in a clean process)
            and save the merged model for serving.
    """

    dataset_path: str | None = field(
        default=None,
        metadata={"help": "Local file or directory (JSONL, JSON or Parquet); wins over `dataset_name`."},
    )
    eval_split_size: float = field(
        default=0.1,
        metadata={"help": "Held-out share (0-1) or row count (>=1) for evaluation; 0 disables evaluation."},
    )
    merge_adapter: bool = field(
        default=True,
        metadata={"help": "Merge the LoRA adapter into the bf16 base model for serving."},
    )


# Keys that stock TRL recipes still use but the pinned libraries renamed. The training script rewrites them
# (and the TypeScript recipe lint warns with the new name), so a recipe copied from gpt-oss-recipes runs as is.
# `warmup_ratio` became a fractional `warmup_steps` in transformers 5; `torch_dtype` became `dtype` in TRL 1.
RENAMED_KEYS: dict[str, str] = {
    "torch_dtype": "dtype",
    "warmup_ratio": "warmup_steps",
}


def recipe_dataclasses() -> dict[str, type]:
    """The dataclasses a recipe's keys fill, by the group name the recipe schema records, in parser order.

    Imported on call: `SFTConfig` pulls in transformers and torch, which the launcher needs only for the check.
    """
    from trl import ModelConfig, SFTConfig

    return {"script": FinetuneScriptArguments, "sft": SFTConfig, "model": ModelConfig}


def make_parser():
    """The recipe parser of the training script: our arguments, then TRL's `SFTConfig` and `ModelConfig`."""
    from .recipe import RecipeParser

    return RecipeParser(tuple(recipe_dataclasses().values()))

"""Value ranges of recipe fields: what the pinned libraries raise on at job start, or silently misread.

`export_recipe_fields.py` adds these bounds (JSON Schema names: minimum, exclusiveMinimum, maximum,
exclusiveMaximum) to the exported field list, so the recipe check refuses the value at pull-request time instead of
inside a paid GPU job. `why` becomes part of the finding; docs/recipe-values.md lists each range with its source.
"""


def bounds(why: str, **limits: float) -> dict:
    return {**limits, "why": why}


RANGES: dict[str, dict] = {
    "learning_rate": bounds(
        "a learning rate of 0 trains nothing and torch optimizers raise below 0",
        exclusiveMinimum=0,
    ),
    "adam_beta1": bounds(
        "torch AdamW raises unless 0 <= beta < 1",
        minimum=0,
        exclusiveMaximum=1,
    ),
    "adam_beta2": bounds(
        "torch AdamW raises unless 0 <= beta < 1",
        minimum=0,
        exclusiveMaximum=1,
    ),
    "adam_epsilon": bounds(
        "torch AdamW raises on a negative epsilon",
        minimum=0,
    ),
    "weight_decay": bounds(
        "torch AdamW raises on a negative weight decay",
        minimum=0,
    ),
    "max_grad_norm": bounds(
        "the Trainer clips only when it is > 0; a negative value silently disables clipping",
        minimum=0,
    ),
    "num_train_epochs": bounds(
        "0 or fewer epochs train nothing",
        exclusiveMinimum=0,
    ),
    "max_steps": bounds(
        "-1 means 'use num_train_epochs'; the Trainer reads any value <= 0 that way",
        minimum=-1,
    ),
    "warmup_steps": bounds(
        "transformers raises on a negative warmup_steps (below 1 it is a fraction of the steps)",
        minimum=0,
    ),
    "logging_steps": bounds(
        "transformers needs a positive interval (below 1 a fraction of the steps)",
        exclusiveMinimum=0,
    ),
    "save_steps": bounds(
        "transformers needs a positive interval (below 1 a fraction of the steps)",
        exclusiveMinimum=0,
    ),
    "eval_steps": bounds(
        "transformers needs a positive interval (below 1 a fraction of the steps)",
        exclusiveMinimum=0,
    ),
    "save_total_limit": bounds(
        "transformers reads 0 or less as no limit and keeps every checkpoint (write null for that)",
        minimum=1,
    ),
    "per_device_train_batch_size": bounds(
        "a batch holds at least one example",
        minimum=1,
    ),
    "per_device_eval_batch_size": bounds(
        "a batch holds at least one example",
        minimum=1,
    ),
    "gradient_accumulation_steps": bounds(
        "the Trainer steps the optimizer every N batches, N >= 1",
        minimum=1,
    ),
    "dataloader_num_workers": bounds(
        "torch DataLoader raises on a negative worker count",
        minimum=0,
    ),
    "dataset_num_proc": bounds(
        "datasets raises below 0 and runs 0 as one process (write null for that)",
        minimum=1,
    ),
    "seed": bounds(
        "numpy seeds are 32-bit unsigned integers",
        minimum=0,
        maximum=4294967295,
    ),
    "data_seed": bounds(
        "numpy seeds are 32-bit unsigned integers",
        minimum=0,
        maximum=4294967295,
    ),
    "max_length": bounds(
        "sequences are truncated to this many tokens (null: no truncation)",
        minimum=1,
    ),
    "label_smoothing_factor": bounds(
        "a smoothing share in [0, 1)",
        minimum=0,
        exclusiveMaximum=1,
    ),
    "lora_r": bounds(
        "PEFT raises unless the LoRA rank is a positive integer",
        minimum=1,
    ),
    "lora_alpha": bounds(
        "the LoRA update is scaled by lora_alpha / lora_r; 0 or less trains nothing or inverts it",
        exclusiveMinimum=0,
    ),
    "lora_dropout": bounds(
        "torch Dropout raises outside [0, 1]; 1 drops every input",
        minimum=0,
        exclusiveMaximum=1,
    ),
    "eval_split_size": bounds(
        "a held-out share in (0, 1), a row count >= 1, or 0 for no evaluation",
        minimum=0,
    ),
    "neftune_noise_alpha": bounds(
        "NEFTune noise scale; leave it out (null) to switch NEFTune off",
        exclusiveMinimum=0,
    ),
}

"""Value ranges of recipe fields: what the pinned libraries raise on at job start, or silently misread.

`export_recipe_fields.py` adds these bounds (JSON Schema names: minimum, exclusiveMinimum, maximum,
exclusiveMaximum) to the exported field list, so the recipe check refuses the value at pull-request time instead of
inside a paid GPU job. `why` becomes part of the finding; docs/recipe-values.md lists each range with its source.
"""

POSITIVE_INT = {"minimum": 1}

RANGES: dict[str, dict] = {
    # torch.optim.Adam/AdamW raise "Invalid learning rate" below 0; 0 trains nothing.
    "learning_rate": {"exclusiveMinimum": 0, "why": "a learning rate of 0 trains nothing and torch optimizers raise below 0"},
    "adam_beta1": {"minimum": 0, "exclusiveMaximum": 1, "why": "torch AdamW raises unless 0 <= beta < 1"},
    "adam_beta2": {"minimum": 0, "exclusiveMaximum": 1, "why": "torch AdamW raises unless 0 <= beta < 1"},
    "adam_epsilon": {"minimum": 0, "why": "torch AdamW raises on a negative epsilon"},
    "weight_decay": {"minimum": 0, "why": "torch AdamW raises on a negative weight decay"},
    "max_grad_norm": {"minimum": 0, "why": "the Trainer clips only when it is > 0; a negative value silently disables clipping"},
    "num_train_epochs": {"exclusiveMinimum": 0, "why": "0 or fewer epochs train nothing"},
    "max_steps": {"minimum": -1, "why": "-1 means 'use num_train_epochs'; the Trainer reads any value <= 0 that way"},
    "warmup_steps": {"minimum": 0, "why": "transformers raises on a negative warmup_steps (below 1 it is a fraction of the steps)"},
    "logging_steps": {"exclusiveMinimum": 0, "why": "transformers needs a positive interval (below 1 a fraction of the steps)"},
    "save_steps": {"exclusiveMinimum": 0, "why": "transformers needs a positive interval (below 1 a fraction of the steps)"},
    "eval_steps": {"exclusiveMinimum": 0, "why": "transformers needs a positive interval (below 1 a fraction of the steps)"},
    "save_total_limit": {"minimum": 1, "why": "keep at least one checkpoint: spot training resumes from the newest"},
    "per_device_train_batch_size": {**POSITIVE_INT, "why": "a batch holds at least one example"},
    "per_device_eval_batch_size": {**POSITIVE_INT, "why": "a batch holds at least one example"},
    "gradient_accumulation_steps": {**POSITIVE_INT, "why": "the Trainer steps the optimizer every N batches, N >= 1"},
    "dataloader_num_workers": {"minimum": 0, "why": "torch DataLoader raises on a negative worker count"},
    "dataset_num_proc": {**POSITIVE_INT, "why": "datasets.map needs at least one process"},
    "seed": {"minimum": 0, "maximum": 4294967295, "why": "numpy seeds are 32-bit unsigned integers"},
    "data_seed": {"minimum": 0, "maximum": 4294967295, "why": "numpy seeds are 32-bit unsigned integers"},
    "max_length": {**POSITIVE_INT, "why": "sequences are truncated to this many tokens (null: no truncation)"},
    "label_smoothing_factor": {"minimum": 0, "exclusiveMaximum": 1, "why": "a smoothing share in [0, 1)"},
    "lora_r": {**POSITIVE_INT, "why": "PEFT raises unless the LoRA rank is a positive integer"},
    "lora_alpha": {"exclusiveMinimum": 0, "why": "the LoRA update is scaled by lora_alpha / lora_r; 0 or less trains nothing or inverts it"},
    "lora_dropout": {"minimum": 0, "exclusiveMaximum": 1, "why": "torch Dropout raises outside [0, 1]; 1 drops every input"},
    "eval_split_size": {"minimum": 0, "why": "a held-out share in (0, 1), a row count >= 1, or 0 for no evaluation"},
    "neftune_noise_alpha": {"exclusiveMinimum": 0, "why": "NEFTune noise scale; leave it out (null) to switch NEFTune off"},
}

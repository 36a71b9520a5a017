"""GPT-OSS supervised fine-tuning for SageMaker training jobs (TRL + PEFT + Accelerate/DeepSpeed)."""

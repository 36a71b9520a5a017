import type { LoadedRecipe } from '../config/load-recipes';
import { resolveModel, totalParameters } from './model-catalog';

/**
 * EBS volume per instance when the recipe sets none: the MXFP4 download, the merged bf16 model written to
 * /opt/ml/model, checkpoints (LoRA: adapter-sized; full fine-tune: bf16 weights + fp32 Adam states, this
 * node's share, two kept), plus 50 GB for the image, pip cache and dataset; rounded up to 50 GB, at least
 * 100 GB. Unknown models get 500 GB.
 */
export function estimateVolumeSizeGb(recipe: LoadedRecipe): number {
  const model = resolveModel(recipe.document.model_name_or_path as string | undefined);
  if (!model) return 500;
  const params = totalParameters(model);
  const bf16GB = (params * 2) / 1e9;
  const peft = recipe.document.use_peft === true;
  const nodes = recipe.document.platform.training.instance_count;
  const checkpointGB = peft ? 2 * 0.02 * bf16GB : (2 * (params * (2 + 12))) / 1e9 / nodes;
  const total = model.mxfp4CheckpointGB + bf16GB + checkpointGB + 50;
  return Math.max(100, Math.ceil(total / 50) * 50);
}

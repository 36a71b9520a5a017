/**
 * A tiny model repository laid out like openai/gpt-oss-*: config and tokenizer files in git, sharded
 * safetensors in LFS, plus the `original/` and `metal/` copies `stage-model` must skip.
 */
import type { FakeRepo, FakeRepoFile } from '../support/fake-hub';

/** A well-formed safetensors file: 8-byte little-endian header length, JSON header, then the tensor bytes. */
export function safetensors(tensors: Record<string, { dtype: 'BF16' | 'U8'; shape: number[] }>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'BF16' ? 2 : 1);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, filler(offset, json.length)]);
}

/** Reproducible noise (the same bytes on every call, so tests can compare against a fresh listing). */
function filler(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const TINY_COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const TINY_ID = 'tiny-org/tiny-gpt-oss';
export const BIG_SHARD = 'model-00001-of-00002.safetensors';
export const SMALL_SHARD = 'model-00002-of-00002.safetensors';

/** Files of the tiny repo; the first shard is 17 MiB so it goes up as a multipart upload (16 MiB parts). */
export function tinyModelFiles(): Record<string, FakeRepoFile> {
  const text = (s: string): FakeRepoFile => ({ content: Buffer.from(s) });
  return {
    '.gitattributes': text('*.safetensors filter=lfs diff=lfs merge=lfs -text\n'),
    'README.md': text('# tiny gpt-oss\n'),
    'config.json': text(JSON.stringify({ model_type: 'gpt_oss', num_hidden_layers: 2, num_local_experts: 4 })),
    'generation_config.json': text(JSON.stringify({ eos_token_id: [200002, 199999] })),
    'tokenizer.json': { content: Buffer.from(JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 } } })), lfs: true },
    'model.safetensors.index.json': text(JSON.stringify({ weight_map: { 'model.embed_tokens.weight': BIG_SHARD } })),
    [BIG_SHARD]: {
      content: safetensors({
        'model.embed_tokens.weight': { dtype: 'BF16', shape: [1024, 8704] },
        'model.layers.0.mlp.experts.gate_up_proj_blocks': { dtype: 'U8', shape: [4, 16, 2, 16] },
      }),
      lfs: true,
    },
    [SMALL_SHARD]: {
      content: safetensors({ 'model.layers.1.mlp.experts.gate_up_proj_scales': { dtype: 'U8', shape: [4, 16, 2] } }),
      lfs: true,
    },
    'original/model.safetensors': { content: safetensors({ w: { dtype: 'BF16', shape: [64] } }), lfs: true },
    'original/config.json': text('{}'),
    'metal/model.bin': { content: Buffer.from('metal weights'), lfs: true },
  };
}

export function tinyModelRepo(extra: Partial<FakeRepo> = {}): FakeRepo {
  return { type: 'model', name: TINY_ID, commit: TINY_COMMIT, files: tinyModelFiles(), ...extra };
}

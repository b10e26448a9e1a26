// A tiny Gemma-3-shaped model whose activations leave f16's range (±65504) where real checkpoints do: the
// attention output (o's input) and act(gate)·up (ffn_down's input), which no norm bounds. Gemma 2/3 and Qwen2.5
// have such activations; here large norm weights make them. attn_norm's weight scales the qkv input, so v (and
// so the attention output) comes out ~ATTN_NORM_GAIN; the q/k norms keep the scores as in any tiny model, so the
// f32 attention picks positions with the usual margins. ffn_norm's weight makes gate and up ~FFN_NORM_GAIN
// each, their product ~FFN_NORM_GAIN². The post-norms bring each block's output back to unit scale, so the
// logits are ordinary. Small (dim 64, ffn 192, vocab 320: ~0.5 MB) and seeded, like test/helpers/tiny-models.ts.
import type { GGUFSpec } from './gguf-writer';
import { tinyModelSpec } from './tiny-models';

/** attn_norm's weight: the qkv input, v and the attention output come out about this large (RMS). */
const ATTN_NORM_GAIN = 3e5;
/** ffn_norm's weight: gate and up come out about this large, ffn_down's input about its square. */
const FFN_NORM_GAIN = 400;

export function f16RangeModelSpec(): GGUFSpec {
  const spec = tinyModelSpec('gemma3', { dim: 64, layers: 2, heads: 2, kvHeads: 1, ff: 192, seed: 5 });
  for (const t of spec.tensors ?? []) {
    const gain = /\.attn_norm\.weight$/.test(t.name) ? ATTN_NORM_GAIN : /\.ffn_norm\.weight$/.test(t.name) ? FFN_NORM_GAIN : 1;
    if (gain !== 1) t.data = (t.data as Float32Array).map((v) => v * gain);
  }
  return spec;
}

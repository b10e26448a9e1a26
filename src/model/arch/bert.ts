// BERT (all-MiniLM, bge) and nomic-bert (nomic-embed-text): encoders for embeddings. Bidirectional attention,
// LayerNorm after each sub-block's residual add, token-type and embedding LayerNorm (src/model/config.ts's
// EncoderConfig). BERT adds learned positions and runs a GELU MLP with biases; nomic-bert has NEOX rope, a
// fused unbiased QKV and a SwiGLU FFN, as llama.cpp's bert graph has them.
import { getOptionalBoolean } from '../gguf-metadata';
import type { ArchReader } from './common';
import { ArchMetadata, inverseSqrt, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

/** BERT's own LayerNorm epsilon (llama.cpp requires the key; BERT's config says 1e-12). */
const BERT_NORM_EPS = 1e-12;

function readEncoder(nomic: boolean): ArchReader {
  return (file, id) => {
    const m = new ArchMetadata(file, id.architecture);
    const shape = readShape(m);
    return {
      ...id,
      ...shape,
      norm: 'layer',
      normEps: m.positive('attention.layer_norm_epsilon', m.number('attention.layer_norm_epsilon') ?? BERT_NORM_EPS),
      feedForward: nomic ? 'swiglu' : 'gelu',
      fusedQkv: m.hasTensor('blk.0.attn_qkv.weight'),
      fusedGateUp: false,
      biases: resolveBiases(m, ['token_embd_norm', 'attn_output_norm', 'layer_output_norm'], [...QKV_BIASES, 'attn_output', 'ffn_up', 'ffn_down']),
      qkNorm: false,
      postNorms: false,
      embeddingScale: 1,
      positionEmbedding: !nomic,
      rope: nomic ? readRope(m, shape, 'neox') : null,
      slidingWindow: null,
      attentionScale: inverseSqrt(shape.headDim),
      attentionSoftcap: 0,
      finalSoftcap: 0,
      tiedEmbeddings: true, // no output head at all
      causal: getOptionalBoolean(file, m.key('attention.causal')) ?? false, // converted files say false
      encoder: { tokenTypes: file.tensorsByName.get('token_types.weight')?.dims[1] ?? 0 },
    };
  };
}

export const readBert = readEncoder(false);
export const readNomicBert = readEncoder(true);

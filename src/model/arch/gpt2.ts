// GPT-2: layer norm with bias, learned absolute positions (`position_embd`, no rope), fused QKV with
// bias, a plain GELU MLP with biases, output usually tied to the token embedding.
import type { ArchReader } from './common';
import { ArchMetadata, DEFAULTS, inverseSqrt, readShape, resolveBiases } from './common';

export const readGPT2: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  return {
    ...id,
    ...shape,
    norm: 'layer',
    normEps: m.positive('attention.layer_norm_epsilon', m.number('attention.layer_norm_epsilon') ?? DEFAULTS.normEps),
    feedForward: 'gelu',
    fusedQkv: true,
    fusedGateUp: false,
    biases: resolveBiases(m, ['attn_norm', 'attn_qkv', 'attn_output', 'ffn_norm', 'ffn_up', 'ffn_down', 'output_norm']),
    qkNorm: false,
    postNorms: false,
    embeddingScale: 1,
    positionEmbedding: true,
    rope: null,
    slidingWindow: null,
    attentionScale: inverseSqrt(shape.headDim),
    attentionSoftcap: 0,
    finalSoftcap: 0,
    tiedEmbeddings: !m.hasTensor('output.weight'),
  };
};

// Phi-3: fused QKV (`attn_qkv`) or separate, gate and up fused in `ffn_up` (gate first), NEOX rope.
// LongRoPE ("su") files are run with their short factors, which is what llama.cpp does for contexts up to
// the original training length; the usable context is capped there. llama.cpp ignores Phi-3's sliding
// window (disabled upstream), and so does Hearth.
import type { ArchReader } from './common';
import { ArchMetadata, llamaShaped, QKV_BIASES, readRope, readShape, resolveBiases } from './common';

export const readPhi3: ArchReader = (file, id) => {
  const m = new ArchMetadata(file, id.architecture);
  const shape = readShape(m);
  const rope = readRope(m, shape, 'neox', { longRopeShortFactors: 'rope_factors_short.weight' });
  const longRope = rope.freqFactors !== null;
  const originalContext = m.number('rope.scaling.original_context_length') ?? shape.contextLength;
  return {
    ...id,
    ...llamaShaped(m, shape),
    contextLength: longRope ? Math.min(shape.contextLength, originalContext) : shape.contextLength,
    fusedGateUp: true,
    biases: resolveBiases(m, [], QKV_BIASES),
    qkNorm: false,
    rope,
  };
};

// The (architecture × tensor type) grid against llama.cpp (test/helpers/quant-grid.ts) for gemma2, gemma3, gpt2:
// each architecture's tiny random model (2 layers, dim 256, FFN 512, head dim 64) with its matrices in
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q2_K, Q3_K, IQ4_NL, IQ4_XS and llama-quantize's
// Q4_K_M, Q3_K_S, Q3_K_M, Q3_K_L, Q2_K and IQ4_XS mixes (F32 and a rotating third of the others per
// architecture: gridTypesOf), 32 greedy steps:
// (b) Hearth on the quantized file = llama.cpp on its dequantized F32 twin (greedy ids exact, F32-level
// logit bounds), (c) within a per-type bound of llama.cpp on the quantized file, (d) f16 arithmetic within
// F16_TOLERANCE of f32, and the GPU memory after load = tensor bytes + KV cache + a type-independent rest.
// Measured differences per case are printed as test diagnostics.
import { defineGridTests } from './helpers/quant-grid';

defineGridTests(['gemma2', 'gemma3', 'gpt2']);

// The (architecture × tensor type) grid against llama.cpp (test/helpers/quant-grid.ts) for gemma2, gemma3, gpt2:
// each architecture's tiny random model (2 layers, dim 256, FFN 512, head dim 64) with its matrices in
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K and a Q4_K_M mix, 32 greedy steps:
// (b) Hearth on the quantized file = llama.cpp on its dequantized F32 twin (greedy ids exact, F32-level
// logit bounds), (c) within a per-type bound of llama.cpp on the quantized file, (d) f16 arithmetic within
// F16_TOLERANCE of f32, and the GPU memory after load = tensor bytes + KV cache + a type-independent rest.
// Measured differences per case are printed as test diagnostics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { closeLlamaCpp } from './helpers/llama-cpp';
import { checkGridCase, formatGridResult, GRID_TYPES, gridArch, memoryOverhead } from './helpers/quant-grid';
import type { TinyArch } from './helpers/tiny-models';

let dir: string;
let gpu: AcquiredDevice;
before(async () => { dir = mkdtempSync(join(tmpdir(), 'hearth-quant-grid-')); gpu = await acquireDevice(); });
after(async () => { rmSync(dir, { recursive: true, force: true }); gpu?.device.destroy(); await closeLlamaCpp(); });

for (const arch of ['gemma2', 'gemma3', 'gpt2'] as TinyArch[]) {
  const g = gridArch(arch);
  let f32Overhead: number | undefined;
  for (const type of GRID_TYPES) {
    test(`${arch} × ${type.toUpperCase()}: llama.cpp on the dequantized and the quantized file, f16 arithmetic, GPU memory`, async (t) => {
      const r = await checkGridCase(gpu, dir, g, type);
      t.diagnostic(formatGridResult(r));
      const { bytes, slack } = memoryOverhead(r);
      if (type === 'f32') f32Overhead = bytes;
      else if (f32Overhead !== undefined) {
        assert.ok(Math.abs(bytes - f32Overhead) <= slack, `GPU bytes beyond tensors + KV cache depend on the weight type: ${bytes} here, ${f32Overhead} for F32`);
      }
    });
  }
}

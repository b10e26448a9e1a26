// Llama-shaped architectures against llama.cpp on tiny random models (test/helpers/tiny-models.ts): Llama 3
// rope factors and linear rope scaling, Qwen2 q/k/v biases, Qwen3 q/k norm, Phi-3 fused QKV and gate-up and
// its LongRoPE short factors. Greedy ids over 32 steps must be llama.cpp's exactly, per-step logits within
// 1e-4·max|logit| (measured: ≤ 3e-6·max|logit| on lavapipe).
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLlamaCpp, formatReport } from './helpers/llama-cpp';
import { ARCH_CASES, checkArchCase } from './helpers/tiny-models';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'hearth-arch-')); });
after(async () => { if (dir) rmSync(dir, { recursive: true, force: true }); await closeLlamaCpp(); });

for (const c of ARCH_CASES.filter((a) => ['llama', 'qwen2', 'qwen3', 'phi3'].includes(a.arch))) {
  test(`${c.name}: greedy ids and logits equal llama.cpp's`, async (t) => {
    t.diagnostic(formatReport(await checkArchCase(c, dir)));
  });
}

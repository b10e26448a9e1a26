// GELU architectures against llama.cpp on tiny random models (test/helpers/tiny-models.ts): Gemma 2 (GeGLU,
// √dim embedding scale, post-norms, attention and final logit soft-caps, alternating sliding windows),
// Gemma 3 (q/k norm, windowed layers with their own rope base, linear scaling on global layers) and GPT-2
// (layer norm, learned positions, biased fused QKV, GELU MLP). Greedy ids over 32 steps must be llama.cpp's
// exactly; per-step logits agree within 1e-3·max|logit| (measured ≤ 5e-4·max|logit|): llama.cpp rounds
// GELU's input and output to f16 (see GELU_TOLERANCE), Hearth does not.
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLlamaCpp, formatReport } from './helpers/llama-cpp';
import { ARCH_CASES, checkArchCase } from './helpers/tiny-models';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'hearth-arch-')); });
after(async () => { if (dir) rmSync(dir, { recursive: true, force: true }); await closeLlamaCpp(); });

for (const c of ARCH_CASES.filter((a) => ['gemma2', 'gemma3', 'gpt2'].includes(a.arch))) {
  test(`${c.name}: greedy ids and logits equal llama.cpp's`, async (t) => {
    t.diagnostic(formatReport(await checkArchCase(c, dir)));
  });
}

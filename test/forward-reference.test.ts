// Hearth's GPU forward pass against the plain CPU one (test/reference/forward.ts) on every architecture case's tiny
// model (test/helpers/tiny-models.ts), the tiny embedding models and every stories260K file: a prefill of 5 ids,
// then 16 greedy steps. Logits must agree within 1e-4 · max|logit| at every step (Hearth sums in f32, the
// reference in f64; GELU runs in both as the same tanh formula) and the greedy ids exactly; embedding models'
// hidden states of every token within 1e-4 · max|h|. The reference shares only the GGUF and config readers with
// Hearth, so this checks the layer description, the upload and the forward blocks together. (The same models are
// checked against llama.cpp in test/arch-*.test.ts and test/embeddings.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { embedTokens } from '../src/model/embed';
import { writeGGUF } from './helpers/gguf-writer';
import { fixturePath } from './helpers/fixtures';
import { ARCH_CASES, tinyModelSpec } from './helpers/tiny-models';
import { tinyEncoderSpec, tinyQwen3EmbeddingSpec } from './helpers/tiny-embedding-models';
import { forwardLayers, hiddenStates, loadCpuModel, logits, newState } from './reference/forward';

const TOLERANCE = 1e-4;
const STEPS = 16;
const CONTEXT = 64;

let gpu: AcquiredDevice;
let dir: string;
before(async () => { gpu = await acquireDevice(); dir = mkdtempSync(join(tmpdir(), 'hearth-forward-ref-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); gpu?.device.destroy(); });

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

function writeModel(name: string, bytes: Uint8Array): string {
  const path = join(dir, `${name.replace(/\W+/g, '-').slice(0, 60)}.gguf`);
  writeFileSync(path, bytes);
  return path;
}

/** Greedy decoding on both, logits compared at every step; each follows its own argmax, so equal ids are asserted. */
async function compareDecoder(name: string, bytes: Uint8Array): Promise<void> {
  const cpu = await loadCpuModel(bytes);
  const loaded = await loadModel(gpu, writeModel(name, bytes), { contextLength: CONTEXT, precision: 'f32' });
  try {
    const { model } = loaded;
    const prompt = [1, 7, 42, 99, 3].map((id) => id % cpu.config.vocabSize);
    const state = newState(cpu, CONTEXT);
    let ref = logits(cpu, forwardLayers(cpu, state, prompt, 0).at(-1)!);
    model.prefill(prompt.slice(0, -1), 0);
    let gpuToken = prompt.at(-1)!;
    const ids: { hearth: number[]; reference: number[] } = { hearth: [], reference: [] };
    for (let pos = prompt.length - 1; pos < prompt.length - 1 + STEPS; pos++) {
      if (pos > prompt.length - 1) ref = logits(cpu, forwardLayers(cpu, state, [ids.reference.at(-1)!], pos)[0]!);
      const hearth = await model.step(gpuToken, pos, 'logits');
      const bound = TOLERANCE * maxAbs(ref);
      assert.ok(maxDiff(hearth, ref) <= bound, `${name}: step ${pos}: max|Δlogit| ${maxDiff(hearth, ref).toExponential(2)} > ${bound.toExponential(2)}`);
      ids.hearth.push(argmax(hearth));
      ids.reference.push(argmax(ref));
      gpuToken = ids.hearth.at(-1)!;
    }
    assert.deepEqual(ids.hearth, ids.reference, `${name}: greedy ids differ`);
  } finally {
    loaded.destroy();
  }
}

for (const c of ARCH_CASES) {
  test(`${c.name}: Hearth = CPU reference`, () => compareDecoder(c.name, writeGGUF(tinyModelSpec(c.arch, c.options))));
}

for (const file of ['stories260K.gguf', 'stories260K-F16.gguf', 'stories260K-Q8_0.gguf', 'stories260K-Q4_0.gguf', 'stories260K-Q4_K_M.gguf', 'stories260K-Q6_K.gguf']) {
  test(`${file}: Hearth = CPU reference`, () => compareDecoder(file, new Uint8Array(readFileSync(fixturePath('models/stories260K', file)))));
}

const EMBEDDERS = { bert: () => tinyEncoderSpec('bert'), 'nomic-bert': () => tinyEncoderSpec('nomic-bert'), 'qwen3 embedding': () => tinyQwen3EmbeddingSpec() };

for (const [name, spec] of Object.entries(EMBEDDERS)) {
  test(`${name}: hidden states of every token, Hearth = CPU reference`, async () => {
    const bytes = writeGGUF(spec());
    const cpu = await loadCpuModel(bytes);
    const loaded = await loadModel(gpu, writeModel(name, bytes), { embeddings: true, contextLength: CONTEXT, precision: 'f32' });
    try {
      const inputs = [[1, 5, 9, 2], [1, 7, 3, 11, 13, 2], [1, 2]].map((ids) => ids.map((id) => id % cpu.config.vocabSize));
      const hearth = await embedTokens(loaded.model, inputs, 'none'); // packed into one pass
      for (const [i, ids] of inputs.entries()) {
        const ref = hiddenStates(cpu, ids);
        const flat = new Float32Array(ref.length * cpu.config.embeddingLength);
        ref.forEach((h, t) => flat.set(h, t * cpu.config.embeddingLength));
        const bound = TOLERANCE * maxAbs(flat);
        assert.ok(maxDiff(hearth[i]!, flat) <= bound, `${name}: input ${i}: max|Δh| ${maxDiff(hearth[i]!, flat).toExponential(2)} > ${bound.toExponential(2)}`);
      }
    } finally {
      loaded.destroy();
    }
  });
}

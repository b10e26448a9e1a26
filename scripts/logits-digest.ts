// A digest of the exact logits (and embedding vectors) Hearth computes for every tiny architecture model and every
// stories260K file under the load options that pick different kernels: a refactor of the forward pass must leave
// every digest as it was. Prints JSON; `--compare <file>` checks against an earlier run and exits 1 on a change.
//   node --import ./scripts/register.mjs scripts/logits-digest.ts > before.json
//   node --import ./scripts/register.mjs scripts/logits-digest.ts --compare before.json
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel, type LoadModelOptions } from '../src/model/load';
import { embedTokens, modelPooling } from '../src/model/embed';
import { writeGGUF } from '../test/helpers/gguf-writer';
import { ARCH_CASES, tinyModelSpec } from '../test/helpers/tiny-models';
import { tinyEncoderSpec, tinyQwen3EmbeddingSpec } from '../test/helpers/tiny-embedding-models';
import { fixturePath } from '../test/helpers/fixtures';

type Variant = { name: string; options: LoadModelOptions };
const software: Variant = { name: 'default', options: { contextLength: 256 } };
// The GPU profile's kernels with the software profile's precision rule (a partial override of 'auto').
const gpuKernelChoices = { fuseNorm: true, attention: 'split', matvec: 'subgroup', alignedWeights: true } as const;
const gpuKernels: Variant = { name: 'gpu-kernels', options: { contextLength: 2048, profile: gpuKernelChoices } };
const f16: Variant = { name: 'f16', options: { contextLength: 256, precision: 'f16' } };
const q8: Variant = { name: 'q8', options: { contextLength: 256, precision: 'q8' } };

const sha = (bytes: Float32Array[]) => {
  const h = createHash('sha256');
  for (const b of bytes) h.update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  return h.digest('hex').slice(0, 24);
};

/** Prefill 5 fixed ids, then 8 greedy steps, hashing every step's logits (prefill and decode kernels both count). */
async function decoderDigest(gpu: AcquiredDevice, path: string, v: Variant): Promise<string> {
  const loaded = await loadModel(gpu, path, v.options);
  try {
    const { model, config } = loaded;
    const prompt = [1, 7, 42, 99, 3].map((id) => id % config.vocabSize);
    model.prefill(prompt.slice(0, -1), 0);
    const all: Float32Array[] = [];
    let token = prompt[prompt.length - 1]!;
    for (let pos = prompt.length - 1; pos < prompt.length + 7; pos++) {
      const logits = await model.step(token, pos, 'logits');
      all.push(logits);
      token = logits.reduce((best, x, i) => (x > logits[best]! ? i : best), 0);
    }
    return sha(all);
  } finally {
    loaded.destroy();
  }
}

async function embeddingDigest(gpu: AcquiredDevice, path: string, v: Variant): Promise<string> {
  const loaded = await loadModel(gpu, path, { ...v.options, embeddings: true, contextLength: 64 });
  try {
    const inputs = [[1, 5, 9, 2], [1, 7, 3, 11, 13, 2], [1, 2]].map((ids) => ids.map((id) => id % loaded.config.vocabSize));
    return sha(await embedTokens(loaded.model, inputs, modelPooling(loaded.config)));
  } finally {
    loaded.destroy();
  }
}

async function main(): Promise<void> {
  const compareWith = process.argv.includes('--compare') ? process.argv[process.argv.indexOf('--compare') + 1] : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hearth-digest-'));
  const gpu = await acquireDevice();
  const out: Record<string, string> = {};
  const record = async (key: string, run: () => Promise<string>) => {
    out[key] = await run().catch((e: unknown) => `error: ${(e as Error).name}: ${(e as Error).message.slice(0, 120)}`);
    process.stderr.write(`${key}: ${out[key]}\n`);
  };
  try {
    for (const c of ARCH_CASES) {
      const path = join(dir, `${c.name.replace(/\W+/g, '-').slice(0, 60)}.gguf`);
      writeFileSync(path, writeGGUF(tinyModelSpec(c.arch, c.options)));
      for (const v of [software, gpuKernels, f16]) await record(`${c.name} / ${v.name}`, () => decoderDigest(gpu, path, v));
    }
    for (const file of ['stories260K.gguf', 'stories260K-F16.gguf', 'stories260K-Q8_0.gguf', 'stories260K-Q4_0.gguf', 'stories260K-Q4_K_M.gguf', 'stories260K-Q6_K.gguf']) {
      const path = fixturePath('models/stories260K', file);
      const variants = file.includes('Q8_0') || file.includes('Q4_0') ? [software, gpuKernels, q8] : [software, gpuKernels];
      for (const v of variants) await record(`${file} / ${v.name}`, () => decoderDigest(gpu, path, v));
    }
    const embedders = { bert: tinyEncoderSpec('bert'), 'nomic-bert': tinyEncoderSpec('nomic-bert'), 'qwen3-embedding': tinyQwen3EmbeddingSpec() };
    for (const [name, spec] of Object.entries(embedders)) {
      const path = join(dir, `${name}.gguf`);
      writeFileSync(path, writeGGUF(spec));
      for (const v of [software, { ...gpuKernels, options: { profile: gpuKernelChoices } }]) {
        await record(`embeddings ${name} / ${v.name}`, () => embeddingDigest(gpu, path, v));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    gpu.device.destroy();
  }
  if (!compareWith) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const before = JSON.parse(readFileSync(compareWith, 'utf8')) as Record<string, string>;
  const changed = Object.keys({ ...before, ...out }).filter((k) => before[k] !== out[k]);
  for (const k of changed) console.log(`CHANGED ${k}: ${before[k] ?? '(absent)'} → ${out[k] ?? '(absent)'}`);
  console.log(changed.length === 0 ? `all ${Object.keys(out).length} digests unchanged` : `${changed.length} of ${Object.keys(out).length} digests changed`);
  process.exitCode = changed.length === 0 ? 0 : 1;
}

await main();

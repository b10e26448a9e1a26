// GPU memory after load against what the file holds (issue 4: "GPU bytes allocated after load are within
// 5% of the quantized tensor bytes plus the KV cache, counted at createBuffer, reported by inspect").
// The expectation is computed here from the file's tensor table and the model's shape, not from
// src/model/memory.ts. Tiny models cannot show the 5% relation: the scratch buffers of a prefill batch
// alone are ~0.4 MB, more than their weights; the grid tests (test/quant-grid-*.test.ts) check on those
// that everything beyond tensors + KV cache is independent of the weight type. Here a model with the
// proportions of a small real one (Llama-shaped, dim 1024, 8 layers, vocabulary 32000, ~100 MB in Q4_K_M,
// ~80 MB in Q3_K_M) shows the relation itself, in both mixes. Its weights are zero: only sizes matter,
// nothing is computed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { formatBytes } from '../src/gpu/buffers';
import { openFileSource } from '../src/io/file-source';
import { GGMLType, tensorByteLength, type GGMLTypeName } from '../src/model/ggml-types';
import { readGGUF } from '../src/model/gguf';
import { loadModel } from '../src/model/load';
import { checkModel } from '../src/model/check';
import { repoRoot } from './helpers/browser';
import { tinyLlamaSpec, u32, writeGGUF, type TensorSpec } from './helpers/gguf-writer';
import { gridTensorType, type GridMix } from './helpers/quant-grid';

const DIM = 1024, HEADS = 16, KV_HEADS = 4, HEAD_DIM = 64, FFN = 2816, LAYERS = 8, VOCAB = 32000, CONTEXT = 512;

/** The mixes loaded here, and the type most of their bytes are in. */
const MIXES: [GridMix, number][] = [['q4_k_m', GGMLType.Q4_K], ['q3_k_m', GGMLType.Q3_K]];

/** The Llama-shaped model's GGUF in llama-quantize's types for `mix` (Q4_K_M: output Q6_K, some attn_v/ffn_down Q6_K), zero weights. */
function llamaShaped(mix: GridMix): Uint8Array {
  // Metadata (and a 32000-token vocabulary) from the tiny writer, with the real shape's dimensions.
  const { metadata } = tinyLlamaSpec({
    dim: 16, layers: 1, ff: 32, vocab: VOCAB, tied: true,
    metadata: {
      'llama.context_length': u32(CONTEXT), 'llama.embedding_length': u32(DIM), 'llama.block_count': u32(LAYERS),
      'llama.feed_forward_length': u32(FFN), 'llama.attention.head_count': u32(HEADS),
      'llama.attention.head_count_kv': u32(KV_HEADS), 'llama.rope.dimension_count': u32(HEAD_DIM),
    },
  });
  const shapes: [string, number[]][] = [['token_embd.weight', [DIM, VOCAB]]];
  for (let l = 0; l < LAYERS; l++) {
    shapes.push(
      [`blk.${l}.attn_norm.weight`, [DIM]], [`blk.${l}.attn_q.weight`, [DIM, HEADS * HEAD_DIM]],
      [`blk.${l}.attn_k.weight`, [DIM, KV_HEADS * HEAD_DIM]], [`blk.${l}.attn_v.weight`, [DIM, KV_HEADS * HEAD_DIM]],
      [`blk.${l}.attn_output.weight`, [HEADS * HEAD_DIM, DIM]], [`blk.${l}.ffn_norm.weight`, [DIM]],
      [`blk.${l}.ffn_gate.weight`, [DIM, FFN]], [`blk.${l}.ffn_up.weight`, [DIM, FFN]], [`blk.${l}.ffn_down.weight`, [FFN, DIM]],
    );
  }
  shapes.push(['output_norm.weight', [DIM]], ['output.weight', [DIM, VOCAB]]);
  const tensors: TensorSpec[] = shapes.map(([name, dims]) => {
    const dtype = gridTensorType(mix, { name, dims }, LAYERS, false);
    // ggml's own type table, not the GPU layer's: the file is what llama-quantize writes, whatever Hearth reads.
    const type = dtype ? GGMLType[dtype.toUpperCase() as GGMLTypeName] : GGMLType.F32;
    return { name, dims, type, data: new Uint8Array(tensorByteLength(type, dims)) };
  });
  return writeGGUF({ metadata, tensors });
}

/** Runs `hearth <args>` as a separate process. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', ...args], { cwd: repoRoot }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
const paths = new Map<GridMix, string>();
let gpu: AcquiredDevice;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-gpu-memory-'));
  for (const [mix] of MIXES) {
    paths.set(mix, join(dir, `llama-shaped-${mix.toUpperCase()}.gguf`));
    writeFileSync(paths.get(mix)!, llamaShaped(mix));
  }
  gpu = await acquireDevice();
});
after(() => { gpu?.device.destroy(); if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Σ of the file's tensor sizes as its tensor table states them, and the f32 KV cache for CONTEXT positions. */
async function expectedBytes(path: string): Promise<{ tensors: number; kv: number; types: Map<string, number> }> {
  const source = await openFileSource(path);
  try {
    const file = await readGGUF(source);
    const types = new Map<string, number>();
    for (const t of file.tensors) types.set(String(t.type), (types.get(String(t.type)) ?? 0) + t.byteLength);
    return { tensors: file.tensors.reduce((s, t) => s + t.byteLength, 0), kv: 2 * LAYERS * CONTEXT * KV_HEADS * HEAD_DIM * 4, types };
  } finally {
    await source.close?.();
  }
}

const gpuBytes = new Map<string, number>();

for (const [mix, base] of MIXES) {
  const name = mix.toUpperCase();
  for (const precision of ['f32', 'auto'] as const) {
    test(`${name}, dim 1024, 8 layers, vocab 32000 (precision '${precision}'): GPU bytes after load within 5% of tensor bytes + KV cache`, async (t) => {
      const { tensors, kv, types } = await expectedBytes(paths.get(mix)!);
      assert.equal(Math.max(...types.values()), types.get(String(base)), `mostly ${base}: ${[...types].join(', ')}`);
      const loaded = await loadModel(gpu, paths.get(mix)!, { contextLength: CONTEXT, precision });
      const bytes = loaded.info.gpuBytes;
      loaded.destroy();
      gpuBytes.set(`${mix} ${precision}`, bytes);
      const expected = tensors + kv;
      const excess = bytes / expected - 1;
      t.diagnostic(`GPU ${bytes} B = tensors ${tensors} + KV ${kv} + ${bytes - expected} (${(excess * 100).toFixed(2)}%)`);
      assert.ok(bytes >= expected, `the GPU holds less (${bytes}) than the tensors and the KV cache (${expected})`);
      assert.ok(excess <= 0.05, `GPU bytes ${bytes} exceed tensors + KV cache ${expected} by ${(excess * 100).toFixed(2)}%`);
    });
  }

  test(`\`hearth inspect\` and checkModel report the GPU bytes the loader allocates for the ${name} model`, async () => {
    const path = paths.get(mix)!;
    const allocated = gpuBytes.get(`${mix} auto`)!;
    const json = await cli(['inspect', '--model', path, '--context-length', String(CONTEXT), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.gpuMemory.contextLength, CONTEXT);
    assert.equal(report.gpuMemory.total, allocated, `inspect says ${report.gpuMemory.total} B, createEngine's default load allocated ${allocated} B`);
    const text = await cli(['inspect', '--model', path, '--context-length', String(CONTEXT)]);
    assert.match(text.stdout, new RegExp(`^GPU memory\\s+${formatBytes(allocated).replace('.', '\\.')} for ${CONTEXT} positions$`, 'm'));
    const check = await checkModel(path, { contextLength: CONTEXT });
    assert.deepEqual(check.reasons, []);
    assert.equal(check.gpuMemory?.total, allocated, `checkModel says ${check.gpuMemory?.total} B, the load allocated ${allocated} B`);
  });
}

test('checkModel: a matrix in a type Hearth cannot read is a reason naming the types it can, the 2- and 3-bit ones included', async () => {
  const { metadata, tensors } = tinyLlamaSpec({ dim: 256, ff: 256, layers: 1 });
  const iq3 = tensors!.map((t) => (t.name === 'blk.0.attn_q.weight' ? { ...t, type: GGMLType.IQ3_S, data: new Uint8Array(tensorByteLength(GGMLType.IQ3_S, t.dims)) } : t));
  const path = join(dir, 'iq3_s.gguf');
  writeFileSync(path, writeGGUF({ metadata, tensors: iq3 }));
  const check = await checkModel(path, { contextLength: 64 });
  assert.equal(check.ok, false);
  assert.match(check.reasons.join('\n'), /blk\.0\.attn_q\.weight is IQ3_S, which Hearth cannot run; supported weight types: .*Q6_K, Q2_K, Q3_K, IQ4_NL, IQ4_XS\./);
});

// q/k/v of mixed types go up as runs of one type (projectionLayouts): [q; k] and v, q and [k; v], or one matrix each.
// Rows of 34-byte Q8_0 rows (dim 32) in heads of 4 make a k or v of 136 bytes, so a stack and its parts round to
// 16 bytes differently: the estimate must follow the layout, not the tensor table.
test('checkModel\'s estimate is the bytes the loader allocates for every q/k/v layout of mixed types', async () => {
  for (const types of [['F32', 'Q8_0', 'Q8_0'], ['Q8_0', 'Q8_0', 'F32'], ['Q8_0', 'F16', 'Q8_0'], ['Q8_0', 'Q8_0', 'Q8_0']] as const) {
    const { metadata, tensors } = tinyLlamaSpec({ dim: 32, heads: 8, kvHeads: 1, ff: 64, layers: 1 });
    const typed = tensors!.map((t) => {
      const part = /attn_([qkv])\.weight$/.exec(t.name)?.[1];
      if (!part) return t;
      const type = GGMLType[types['qkv'.indexOf(part)]!];
      return { ...t, type, data: new Uint8Array(tensorByteLength(type, t.dims)) };
    });
    const path = join(dir, `qkv-${types.join('-')}.gguf`);
    writeFileSync(path, writeGGUF({ metadata, tensors: typed }));
    const loaded = await loadModel(gpu, path, { contextLength: 64 });
    const allocated = loaded.info.gpuBytes;
    loaded.destroy();
    const check = await checkModel(path, { contextLength: 64 });
    assert.equal(check.gpuMemory?.total, allocated, `q/k/v ${types.join(', ')}: checkModel says ${check.gpuMemory?.total} B, the load allocated ${allocated} B`);
  }
});

// A model file larger than 4 GiB, served by the local hub from a sparse file, streams into GPU buffers in Node
// without the loader ever holding more than its small bound in JS.
//
// The file is a GPT-2 whose learned position table has ~2^19 rows (128 MiB, F32: the tensor the test streams,
// in 16 MiB Range requests) and which carries an unused 4.4 GB tensor ahead of its weights, so every weight
// lies beyond byte 2^32 of the file: Range offsets past 2 GiB and 4 GiB, and GPU memory stays at ~130 MiB (the
// lavapipe "GPU" is this machine's RAM). The first 64 positions are those of a small twin model, so the logits
// must equal the twin's exactly: the bytes that arrived are the right ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import { GGMLType } from '../src/model/ggml-types';
import { UPLOAD_CHUNK_BYTES } from '../src/model/weights';
import { u32, writeGGUF, type MetaValue } from './helpers/gguf-writer';
import { tinyModelSpec } from './helpers/tiny-models';
import { writeSparseGGUF } from './helpers/sparse-gguf';
import { LocalHub } from './helpers/hub-server';

const DIM = 64;
// Positions in the big model's table: just under 128 MiB of F32, the most one binding takes on lavapipe (the
// position kernel binds the table whole).
const ROWS = (1 << 19) - 64;
const FILLER = 1_100_000_000; // F32 elements of the unused tensor: 4.4 GB

let root: string;
let hub: LocalHub;
let gpu: AcquiredDevice;
before(async () => { root = await mkdtemp(join(tmpdir(), 'hearth-large-')); hub = await LocalHub.start(); gpu = await acquireDevice(); });
after(async () => {
  gpu?.device.destroy();
  await hub?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

test('a 4.5 GB sparse GGUF streams from the hub into GPU buffers; the loader holds at most its bound; logits equal the small twin\'s', async () => {
  const twin = tinyModelSpec('gpt2', { dim: DIM, heads: 4, ff: 128, layers: 1, contextLength: 64 });
  const twinBytes = writeGGUF(twin);
  const bytesOf = (data: Uint8Array | Float32Array) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const metadata = (twin.metadata as [string, MetaValue][]).map(([k, v]): [string, MetaValue] => [k, k === 'gpt2.context_length' ? u32(ROWS) : v]);
  const path = join(root, 'big.gguf');
  const { size, offsets } = await writeSparseGGUF(path, metadata, [
    { name: 'filler.weight', dims: [FILLER], type: GGMLType.F32 },
    ...twin.tensors!.map((t) => ({ name: t.name, dims: t.name === 'position_embd.weight' ? [DIM, ROWS] : t.dims, type: t.type, head: bytesOf(t.data) })),
  ]);
  assert.ok(size > 2 ** 32 + DIM * ROWS * 4, `${size} bytes`);
  assert.ok(offsets.get('token_embd.weight')! > 2 ** 32, 'every weight lies past 4 GiB');
  assert.ok((await stat(path)).blocks * 512 < 64 * 2 ** 20, 'the file is sparse on disk');
  hub.addRepo('tests/huge-gpt2', [{ path: 'huge-F32.gguf', diskPath: path, size }]);

  const loaded = await loadModel(gpu, 'tests/huge-gpt2', { hubUrl: hub.url, cache: false, contextLength: 64, precision: 'f32' });
  try {
    const { peakHeldBytes, heldBytesBound } = loaded.loadStats;
    console.log(`file ${(size / 2 ** 30).toFixed(2)} GiB; GPU ${(loaded.info.gpuBytes / 2 ** 20).toFixed(1)} MiB; peak held ${(peakHeldBytes / 2 ** 20).toFixed(1)} MiB of a ${(heldBytesBound / 2 ** 20).toFixed(0)} MiB bound`);
    assert.ok(peakHeldBytes <= heldBytesBound, `held ${peakHeldBytes} > bound ${heldBytesBound}`);
    assert.ok(peakHeldBytes <= UPLOAD_CHUNK_BYTES + (1 << 20), `peak ${peakHeldBytes}: one chunk (plus a small tensor) at a time`);
    assert.ok(heldBytesBound < DIM * ROWS * 4, 'the bound is below the streamed tensor itself');
    assert.ok(loaded.info.gpuBytes > DIM * ROWS * 4 && loaded.info.gpuBytes < DIM * ROWS * 4 + (16 << 20), `${loaded.info.gpuBytes} GPU bytes`);
    const requests = hub.fileRequests('huge-F32.gguf');
    assert.ok(requests.every((r) => r.range), 'Range requests only');
    const starts = requests.map((r) => Number(/bytes=(\d+)/.exec(r.range!)![1]));
    assert.ok(starts.some((s) => s > 2 ** 32 + DIM * ROWS * 2), 'reads reach the end of the table, past 4 GiB');

    const twinLoaded = await loadModel(gpu, twinBytes, { contextLength: 64, precision: 'f32' });
    try {
      const prompt = [1, 5, 9, 13, 40, 41];
      const big = await new Session(loaded).logits(prompt);
      const small = await new Session(twinLoaded).logits(prompt);
      assert.deepEqual(big, small);
    } finally {
      twinLoaded.destroy();
    }
  } finally {
    loaded.destroy();
  }
});

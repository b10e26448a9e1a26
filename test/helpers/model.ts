// Loading a GGUF straight into a LlamaModel for tests that drive the forward pass without the engine.
import { BufferPool } from '../../src/gpu/buffers';
import { openFileSource } from '../../src/io/file-source';
import { readLlamaConfig } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf';
import { LlamaModel } from '../../src/model/llama';
import { uploadLlamaWeights } from '../../src/model/llama-weights';

export async function loadLlamaForTest(device: GPUDevice, path: string, contextLength = 256) {
  const source = await openFileSource(path);
  const file = await readGGUF(source);
  const config = readLlamaConfig(file);
  const pool = new BufferPool(device);
  const weights = await uploadLlamaWeights(file, config, pool, () => {});
  const model = await LlamaModel.create(device, config, weights, pool, contextLength);
  await source.close();
  return { config, model, pool };
}

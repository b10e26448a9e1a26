// The GGUF bytes the WebAssembly backend hands to wllama, fetched the way the WebGPU backend fetches them
// (locateModel: the hub, URLs, the model cache), so a file is downloaded and cached once whichever backend reads it.
import { ResourceError } from '../errors';
import type { ModelSource } from '../engine/types';
import type { ByteSource } from '../io/byte-source';
import { fetchOptionsOf, type ModelFetchOptions } from '../io/fetch-options';
import { locateModel } from '../io/file-set';
import type { ModelLocation } from '../io/model-location';
import { readAll, type ProgressCallback } from '../io/progress';
import { openLocatedModel, type OpenedModel } from '../model/open';
import { WASM_MAX_FILE_BYTES } from './wasm-limits';

export interface ModelBlobs {
  opened: OpenedModel;
  /** One Blob per GGUF part, in order. */
  blobs: Blob[];
}

export interface ModelBlobOptions extends ModelFetchOptions { onProgress?: ProgressCallback; signal?: AbortSignal }

/** Checks every part's size before anything is downloaded, then reads the parts (through the cache where asked). */
export async function fetchModelBlobs(model: ModelSource, options: ModelBlobOptions): Promise<ModelBlobs> {
  const fetch = fetchOptionsOf(options);
  const header = await locateModel(model, { ...fetch, signal: options.signal, headerOnly: true });
  try {
    checkSizes(partsOf(header));
  } finally {
    await closeParts(header);
  }
  const location = await locateModel(model, { ...fetch, signal: options.signal, onProgress: options.onProgress });
  try {
    const opened = await openLocatedModel(location, { signal: options.signal });
    if (opened.format !== 'gguf') throw new ResourceError(`${opened.name} is a safetensors repo; the WebAssembly backend (llama.cpp) reads GGUF files only. Load a GGUF of this model, or use backend 'webgpu'.`);
    const blobs: Blob[] = [];
    for (const part of partsOf(location)) {
      // A source that reports its own progress (a download into the cache) already told the story.
      const bytes = await readAll(part, part.reportsProgress ? undefined : options.onProgress);
      blobs.push(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    }
    opened.endProgress();
    return { opened, blobs };
  } finally {
    await closeParts(location);
  }
}

function partsOf(location: ModelLocation): ByteSource[] {
  if (location.kind !== 'gguf') return [];
  return location.parts ?? [location.source];
}

async function closeParts(location: ModelLocation): Promise<void> {
  await Promise.all(partsOf(location).map((p) => p.close?.()));
}

function checkSizes(parts: ByteSource[]): void {
  for (const part of parts) {
    if (part.size > WASM_MAX_FILE_BYTES) {
      throw new ResourceError(`${part.name} is ${(part.size / 2 ** 30).toFixed(2)} GiB; the WebAssembly backend (wllama) reads each file into one ArrayBuffer, at most 2 GiB. Use a split GGUF (llama-gguf-split --split-max-size 1G) or a smaller quantization, or backend 'webgpu' on a GPU.`);
    }
  }
}

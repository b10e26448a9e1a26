// checkModel's part for the backend choice: which backend a load would take, and what only the WebAssembly
// backend requires of the files (GGUF, each file within wllama's 2 GiB ArrayBuffer).
import type { ByteSource } from '../io/byte-source';
import { checkBackendOption, type Backend } from './backend-option';
import { chooseBackend, probeEnvironment } from './choose-backend';
import { WASM_MAX_FILE_BYTES } from './wasm-limits';

/** The backend createEngine would take with `option` here (an UnsupportedError for 'wasm' where it cannot run). */
export async function backendToCheck(option: unknown): Promise<Backend> {
  const checked = checkBackendOption(option);
  return checked === 'webgpu' ? 'webgpu' : chooseBackend(checked, await probeEnvironment()).backend;
}

export function wasmFileReasons(format: 'gguf' | 'safetensors', parts: readonly ByteSource[]): string[] {
  if (format !== 'gguf') return ['the WebAssembly backend (llama.cpp) reads GGUF files only; pick a GGUF of this model.'];
  return parts.filter((p) => p.size > WASM_MAX_FILE_BYTES)
    .map((p) => `${p.name} is over 2 GiB, more than the WebAssembly backend reads as one file; pick a split GGUF (llama-gguf-split) or a smaller quantization.`);
}

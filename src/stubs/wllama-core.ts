// Stands in for src/wasm/wllama-core.ts in the library build (scripts/build-lib.mjs), whose worker is one
// self-contained file: llama.cpp's 10 MB binary inlined there would weigh on every WebGPU user. 'auto' then
// stays on WebGPU (src/wasm/backend-core.ts) and an explicit backend 'wasm' says why.
import { UnsupportedError } from '../errors';

export const WASM_BACKEND_BUILT = false;

export class WllamaEngineCore {
  constructor() {
    throw new UnsupportedError("backend 'wasm' is not in Hearth's library build yet (the chat app and <hearth-chat> have it); use backend 'webgpu' or 'auto'");
  }
}

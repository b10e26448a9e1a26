/**
 * The most bytes one GGUF file may have on the WebAssembly backend: wllama copies each file into one
 * ArrayBuffer, which engines cap below 2 GiB; a larger model must come split (`-00001-of-0000N.gguf`).
 */
export const WASM_MAX_FILE_BYTES = 2 ** 31 - 1;

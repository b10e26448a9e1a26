// Which GGUF of an `owner/repo` id loads when the caller names no quantization (kept apart from ./hub.ts so the
// page can show it without loading the hub code).

/** Quantizations tried for `owner/repo`, best first: 4–5-bit K-quants keep quality at a third of F16's size. */
export const DEFAULT_QUANTIZATIONS: readonly string[] = ['Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q5_K_S', 'Q4_0', 'Q6_K', 'Q8_0', 'Q5_0', 'Q4_1', 'Q5_1', 'F16', 'BF16', 'F32'];

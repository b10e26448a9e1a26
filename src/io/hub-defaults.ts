// Which GGUF of an `owner/repo` id loads when the caller names no quantization (kept apart from ./hub.ts so the
// page can show it without loading the hub code).

/**
 * Quantizations tried for `owner/repo`, best first: 4–5-bit K-quants keep quality at a third of F16's size, then
 * the 4-bit IQ types and the larger quantizations; the 3- and 2-bit mixes (the files made for phones and 4 GB
 * GPUs) only where a repo has nothing of 4 bits or more but floats, which they undercut by 5–7×.
 */
export const DEFAULT_QUANTIZATIONS: readonly string[] = [
  'Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q5_K_S', 'Q4_0', 'IQ4_XS', 'IQ4_NL', 'Q6_K', 'Q8_0', 'Q5_0', 'Q4_1', 'Q5_1',
  'Q3_K_M', 'Q3_K_L', 'Q3_K_S', 'Q2_K', 'Q2_K_S', 'F16', 'BF16', 'F32',
];

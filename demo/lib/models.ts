// The models the chat app offers: the bundled stories260K plus a curated list of small instruction-tuned
// GGUFs on the Hugging Face hub that fit typical laptops and phones, each with a pre-flight verdict.
import { checkModel } from '../../src/index';
import { formatBytes } from '../describe';

export interface ModelChoice {
  /** What createEngine is given: a hub id (downloaded once into the model cache) or the bundled model's relative URL. */
  source: string;
  label: string;
  /** One line: size, quantization, license. */
  detail: string;
  /** Download size in bytes (approximate for hub files). */
  bytes: number;
  bundled?: boolean;
}

const hub = (repo: string, file: string) => `${repo}/${file}`;
const MB = 1024 * 1024;

export const BUNDLED_MODEL = 'stories260K.gguf';

/**
 * The embedding model that indexes the user's documents (documents.ts): all-MiniLM-L6-v2 (bert, 384 dimensions,
 * about 25 MB at Q8_0, Apache-2.0), loaded beside the chat model when documents are added or searched.
 */
export const EMBEDDING_MODEL = 'second-state/All-MiniLM-L6-v2-Embedding-GGUF';

export const MODEL_CHOICES: ModelChoice[] = [
  { source: BUNDLED_MODEL, label: 'stories260K (bundled)', detail: '1.2 MB · F32 · tells tiny stories, no chat template · MIT', bytes: 1.2 * MB, bundled: true },
  { source: hub('HuggingFaceTB/SmolLM2-135M-Instruct-GGUF', 'smollm2-135m-instruct-q8_0.gguf'), label: 'SmolLM2 135M Instruct', detail: '145 MB · Q8_0 · Apache-2.0', bytes: 145 * MB },
  { source: hub('HuggingFaceTB/SmolLM2-360M-Instruct-GGUF', 'smollm2-360m-instruct-q8_0.gguf'), label: 'SmolLM2 360M Instruct', detail: '386 MB · Q8_0 · Apache-2.0', bytes: 386 * MB },
  { source: hub('Qwen/Qwen2.5-0.5B-Instruct-GGUF', 'qwen2.5-0.5b-instruct-q4_k_m.gguf'), label: 'Qwen2.5 0.5B Instruct', detail: '398 MB · Q4_K_M · Apache-2.0', bytes: 398 * MB },
  { source: hub('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct-Q4_K_M.gguf'), label: 'Llama 3.2 1B Instruct', detail: '808 MB · Q4_K_M · Llama 3.2 Community License', bytes: 808 * MB },
  { source: hub('Qwen/Qwen2.5-1.5B-Instruct-GGUF', 'qwen2.5-1.5b-instruct-q4_k_m.gguf'), label: 'Qwen2.5 1.5B Instruct', detail: '1.1 GB · Q4_K_M · Apache-2.0', bytes: 1117 * MB },
  { source: hub('bartowski/gemma-2-2b-it-GGUF', 'gemma-2-2b-it-Q4_K_M.gguf'), label: 'Gemma 2 2B Instruct', detail: '1.7 GB · Q4_K_M · Gemma Terms of Use', bytes: 1709 * MB },
  { source: hub('bartowski/Phi-3.5-mini-instruct-GGUF', 'Phi-3.5-mini-instruct-Q4_K_M.gguf'), label: 'Phi-3.5 mini Instruct', detail: '2.4 GB · Q4_K_M · MIT', bytes: 2393 * MB },
];

export interface Verdict {
  kind: 'ok' | 'no' | 'unknown';
  /** Why not (kind 'no'), what was found (kind 'ok'), or why it could not be checked. */
  reasons: string[];
}

/**
 * A GPU memory budget for the check. WebGPU does not say how much memory the GPU has; integrated GPUs (most
 * laptops and phones) share the system's, so half of navigator.deviceMemory (Chrome reports up to 8 GB) is
 * a cautious stand-in. Without it only the adapter's per-buffer limits are checked.
 */
function gpuMemoryBudget(): number | undefined {
  const gb = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return gb ? (gb * 1024 ** 3) / 2 : undefined;
}

/**
 * `?hub=<url>` points hub ids at another hub (a mirror, or a local test hub) instead of huggingface.co; the
 * same option goes to checkModel and createEngine.
 */
export function hubOption(): { hubUrl?: string } {
  const hub = new URLSearchParams(location.search).get('hub');
  return hub ? { hubUrl: hub } : {};
}

/**
 * `?backend=webgpu|wasm|auto` picks the engine's backend (default 'auto': llama.cpp WebAssembly where WebGPU is
 * missing or software-only). Tests of the WebGPU path in a Chromium whose WebGPU is SwiftShader say webgpu.
 */
export function backendOption(): { backend?: 'auto' | 'webgpu' | 'wasm' } {
  const backend = new URLSearchParams(location.search).get('backend');
  return backend === 'auto' || backend === 'webgpu' || backend === 'wasm' ? { backend } : {};
}

/** What the status line says of the backend: "WebGPU (adapter)" or "llama.cpp WebAssembly, 1 thread (why)". */
export function describeBackend(m: { backend: 'webgpu' | 'wasm'; backendReason: string; adapter: string }): string {
  return m.backend === 'wasm' ? `${m.adapter}: ${m.backendReason}` : `WebGPU (${m.adapter || 'unknown adapter'})`;
}

/**
 * Whether this device can run `source`, asked before any large download (checkModel reads only the header).
 * `reserved`: bytes another loaded model holds (the documents' embedding model), taken off the budget.
 */
export async function preflight(source: string, signal?: AbortSignal, reserved = 0): Promise<Verdict> {
  try {
    // Hub ids go as they are; the bundled model's path is relative to the app.
    const model = source === BUNDLED_MODEL ? new URL(source, location.href).href : source;
    // On the WebAssembly backend the same budget (half the device's memory) bounds main memory instead.
    const budget = gpuMemoryBudget();
    const check = await checkModel(model, { signal, gpuMemoryBudget: budget === undefined ? undefined : Math.max(0, budget - reserved), ...hubOption(), ...backendOption() });
    if (!check.ok) return { kind: 'no', reasons: reserved > 0 ? [...check.reasons, `(${formatBytes(reserved)} of the budget is the documents' embedding model, which stays loaded)`] : check.reasons };
    const found = [check.gpuMemory ? `needs ${formatBytes(check.gpuMemory.total)} of ${check.backend === 'wasm' ? 'memory (llama.cpp WebAssembly)' : 'GPU memory'}${reserved > 0 ? ` beside the embedding model's ${formatBytes(reserved)}` : ''}` : '',
      check.downloadBytes > 0 ? `${formatBytes(check.downloadBytes)} to download` : 'in the model cache'];
    return { kind: 'ok', reasons: found.filter(Boolean) };
  } catch (e) {
    return { kind: 'unknown', reasons: [`could not check: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

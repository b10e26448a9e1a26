// The models the chat app offers: the bundled stories260K plus a curated list of small instruction-tuned
// GGUFs on the Hugging Face hub that fit typical laptops and phones, each with a pre-flight verdict.
import * as hearth from '../../src/index';

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

export type Verdict =
  | { kind: 'ok'; reasons: string[] }
  | { kind: 'no'; reasons: string[] }
  | { kind: 'unknown'; reasons: string[] };

/** The engine's pre-flight check, where this build of Hearth has one (it reads only the file's header). */
type CheckModel = (source: string, options?: { signal?: AbortSignal }) => Promise<unknown>;
const checkModel = Reflect.get(hearth, 'checkModel') as CheckModel | undefined;

/** Whether this device can run `source`, asked before any large download. */
export async function preflight(source: string, signal?: AbortSignal): Promise<Verdict> {
  if (!checkModel) return { kind: 'unknown', reasons: ['not checked: this build has no pre-flight check'] };
  try {
    const r = (await checkModel(source, { signal })) as {
      ok?: boolean; fits?: boolean; canRun?: boolean; reasons?: unknown[];
    };
    const ok = r.ok ?? r.fits ?? r.canRun;
    const reasons = (r.reasons ?? []).map(String);
    return ok === undefined ? { kind: 'unknown', reasons } : { kind: ok ? 'ok' : 'no', reasons };
  } catch (e) {
    return { kind: 'unknown', reasons: [`could not check: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

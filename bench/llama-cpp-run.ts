// The native peer: llama.cpp through node-llama-cpp, on the same GGUF and the same prompt token ids as Hearth,
// with its CPU build (`threads` threads), its Vulkan build or its CUDA build (every layer on the GPU). Each run
// is a child process (bench/llama-cpp-child.ts): two llama.cpp builds never share a process, a driver that
// crashes or hangs costs that peer only, and a backend that cannot run here comes back `skipped` with the reason.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type LlamaCppBackend = 'cpu' | 'vulkan' | 'cuda';
export const LLAMA_CPP_BACKENDS: readonly LlamaCppBackend[] = ['cpu', 'vulkan', 'cuda'];

export interface LlamaCppMetrics {
  backend: LlamaCppBackend;
  threads: number;
  /** The GPU devices llama.cpp used (empty on CPU). */
  gpuDevices: string[];
  /** llama.cpp's default on GPUs ('auto': on where the backend supports it); off on CPU, as llama-cli runs it. */
  flashAttention: 'auto' | false;
  loadMs: number;
  /** The context llama.cpp made (at least the requested one: it must hold the longest decode position). */
  contextLength: number;
  prefillTokensPerSecond: Record<string, number>;
  /** By prompt length: a cleared sequence, the prompt evaluated, the first greedy id out. */
  timeToFirstTokenMsByLength: Record<string, number>;
  decodeTokensPerSecond: number;
  decodeTokensPerSecondByPosition: Record<string, number>;
}
export interface LlamaCppSkipped { backend: LlamaCppBackend; skipped: string }
export type LlamaCppResult = LlamaCppMetrics | LlamaCppSkipped;

export interface LlamaCppRequest {
  path: string; backend: LlamaCppBackend;
  /** Token ids (BOS first): each prompt's prefill is timed; the first precedes the headline decode. */
  prompts: number[][];
  /**
   * Prompts after which decode is timed again (their lengths are the positions), e.g. of 1024 and 8192 tokens:
   * each is evaluated as a prompt (batches of 512), never decoded up to; the context must hold it plus decodeTokens.
   */
  decodePrompts: number[][];
  decodeTokens: number; contextLength: number; threads: number;
}

export const isSkipped = (r: LlamaCppResult | undefined): r is LlamaCppSkipped => !!r && 'skipped' in r;

/** The child's entry: the TypeScript file in a checkout, the bundled .mjs beside the bundle (bench/device/pack.mjs). */
function childEntry(): string {
  for (const name of ['llama-cpp-child.ts', 'llama-cpp-child.mjs']) {
    const path = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`bench: llama-cpp-child.ts (or .mjs) is missing beside ${fileURLToPath(import.meta.url)}`);
}

/** Runs one llama.cpp measurement in a child process; a failure or a timeout is a `skipped` result with the reason. */
export async function measureLlamaCpp(request: LlamaCppRequest, timeoutMs = 600_000): Promise<LlamaCppResult> {
  const child = spawn(process.execPath, [...process.execArgv, childEntry()], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.end(JSON.stringify(request));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (code === 0 && line) return JSON.parse(line) as LlamaCppResult;
  const why = code === null ? `killed after ${timeoutMs / 1000} s` : `exit code ${code}`;
  return { backend: request.backend, skipped: `llama.cpp ${request.backend} failed (${why}): ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}` };
}

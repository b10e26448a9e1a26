// Chunks pushed by the core, pulled by `for await` over a TokenStream; and the stream of a request that failed
// before it was queued.
import type { StreamedSoFar } from '../worker/session';
import type { GenerationResult, TokenChunk, TokenStream } from '../types';

/** A stream that fails with `error` (its result rejects; iterating it throws). */
export function failed(error: unknown): TokenStream {
  const result = Promise.reject(error);
  result.catch(() => {});
  return {
    result,
    cancel: () => {},
    [Symbol.asyncIterator]: async function* (): AsyncGenerator<TokenChunk> { throw error; },
  };
}

/**
 * Chunks pushed by the core, pulled by `for await`; ends or fails with the generation.
 * Across a worker, chunk callbacks and the final result travel on different message ports, so the
 * result may arrive first: the stream ends only once the chunk that completes the result's tokens and text
 * is in (each chunk says how far the output had come with it).
 */
export class ChunkQueue {
  private readonly chunks: TokenChunk[] = [];
  private streamed: StreamedSoFar = { tokens: 0, chars: 0 };
  private final?: GenerationResult;
  private done = false;
  private error: unknown;
  private wake?: () => void;

  push(c: TokenChunk, soFar: StreamedSoFar): void {
    this.chunks.push(c);
    this.streamed = soFar;
    this.settle();
  }
  end(result: GenerationResult): void { this.final = result; this.settle(); }
  fail(e: unknown): void { this.error = e; this.done = true; this.wake?.(); }

  private settle(): void {
    const r = this.final;
    if (r && this.streamed.tokens >= r.tokens.length && this.streamed.chars >= r.text.length) this.done = true;
    this.wake?.();
  }

  /**
   * Leaving the loop early (`break`, `return`, a throw in its body: the iterator's return()) calls `cancel`,
   * as the OpenAI SDK aborts its request on break: the generation stops within a step and the next starts.
   */
  async *iterate(cancel: () => void): AsyncGenerator<TokenChunk> {
    try {
      for (;;) {
        while (this.chunks.length > 0) yield this.chunks.shift()!;
        if (this.done) {
          if (this.error !== undefined) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
      }
    } finally {
      if (!this.done) cancel();
    }
  }
}

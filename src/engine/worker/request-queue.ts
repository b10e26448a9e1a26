// Requests run one at a time in arrival order; cancel(id) aborts a running one's signal or rejects a queued one.
import { abortError } from '../../errors';

export class RequestQueue {
  /** The end of the queue: each request starts when the one before it has settled. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly requests = new Map<number, AbortController>();

  /** Runs `work` after everything queued before it; with an id, cancel(id) aborts the signal `work` gets. */
  enqueue<T>(id: number | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (id !== undefined) this.requests.set(id, controller);
    const result = this.tail.then(() => {
      if (controller.signal.aborted) throw abortError('The request was aborted before it started.');
      return work(controller.signal);
    }).finally(() => {
      if (id !== undefined) this.requests.delete(id);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  cancel(id: number): void {
    this.requests.get(id)?.abort();
  }

  /** Aborts every request and waits until the queue is empty. */
  async drain(): Promise<void> {
    for (const controller of this.requests.values()) controller.abort();
    await this.tail;
  }
}

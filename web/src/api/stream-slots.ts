/**
 * A counting semaphore for long-lived streams. Browsers allow six HTTP/1.1 connections per
 * origin and every open gRPC-Web stream holds one, so at most `limit` streams run at once and
 * the rest wait their turn, in order. A waiter whose signal aborts leaves the queue at once: a
 * released slot always goes to a live waiter, never to one that has given up.
 */
export class StreamSlots {
  private open = 0;
  private readonly waiting: Array<{ wake: () => void; signal: AbortSignal }> = [];

  constructor(readonly limit: number) {}

  /** Streams holding a slot now, and waiters still queued (for tests and diagnostics). */
  get stats(): { open: number; waiting: number } {
    return { open: this.open, waiting: this.waiting.length };
  }

  /** Resolves true once a slot is held (release it exactly once), false if `signal` aborted. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.open < this.limit) {
      this.open += 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = {
        signal,
        // The slot is handed over by `release`: it stays counted as open.
        wake: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(true);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Give a slot back: to the first live waiter, or to the pool. */
  release(): void {
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      if (!next.signal.aborted) {
        next.wake();
        return;
      }
    }
    this.open = Math.max(0, this.open - 1);
  }
}

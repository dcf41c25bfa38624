/**
 * Caps concurrent work and the queue in front of it. Small enough to own: p-limit has no queue bound,
 * and an unbounded queue under a login flood only turns overload into latency for everyone.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `work` when a slot is free; returns null at once when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<{ value: T } | null> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.queueLimit) return null;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return { value: await work() };
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so `active` never dips and lets a newcomer jump the queue.
      if (next) next();
      else this.active--;
    }
  }
}

// A push-pull channel between a producer that pushes items as they happen and one consumer that iterates them.
// The consumer takes the whole backlog at once: shift() on a long backlog would be O(n) per item.
export class Channel<T> {
  private items: T[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  push(x: T): void {
    this.items.push(x);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      const batch = this.items;
      this.items = [];
      for (const x of batch) yield x;
      if (this.items.length > 0) continue;
      if (this.closed) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

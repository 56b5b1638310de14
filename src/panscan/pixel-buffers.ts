// Reusable pixel-value tensors. A fresh [1+k, 3, 896, 896] Float32Array is 9.6 MB per entry, and allocating and
// first touching 38 MB costs more (page faults) than resizing into it, so steady-state callers (the bench, the
// panscan command, replica workers) keep released tensors and hand them out again by entry count.

export const RETAINED_BYTES_MAX = 512 * 1024 * 1024;

export class PixelBufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private retainedBytes = 0;

  /** shared: back tensors with SharedArrayBuffers (needed when a ResizePool's workers write them). */
  constructor(readonly shared: boolean) {}

  acquire(elements: number): Float32Array {
    const list = this.free.get(elements);
    const hit = list?.pop();
    if (hit) {
      this.retainedBytes -= hit.byteLength;
      return hit;
    }
    return this.shared ? new Float32Array(new SharedArrayBuffer(elements * 4)) : new Float32Array(elements);
  }

  /** Gives a tensor back; it must not be used by the caller afterwards. */
  release(buf: Float32Array): void {
    if (this.retainedBytes + buf.byteLength > RETAINED_BYTES_MAX) return;
    if (this.shared !== buf.buffer instanceof SharedArrayBuffer) return;
    const list = this.free.get(buf.length) ?? [];
    list.push(buf);
    this.free.set(buf.length, list);
    this.retainedBytes += buf.byteLength;
  }
}

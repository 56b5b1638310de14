// Line framing for the worker's stdio: splits a byte stream into lines (LF or CRLF, chunks cut anywhere, UTF-8
// sequences split across chunks), and keeps the last lines of a stream (stderr) to explain a worker's death.
// Pure: the process plumbing in replica.ts feeds it.
import { StringDecoder } from 'node:string_decoder';

/** A line longer than this is cut (a runaway progress bar must not hold megabytes). */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.pending.length > MAX_LINE_CHARS) {
      this.onLine(this.pending);
      this.pending = '';
    }
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.onLine(this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending);
    this.pending = '';
  }
}

/** The last `max` non-empty lines of a stream; progress bars redrawn with \r keep only their last state. */
export class TailBuffer {
  private readonly lines: string[] = [];

  constructor(private readonly max: number) {}

  add(line: string): string | null {
    const last = line.split('\r').filter((s) => s.trim() !== '').at(-1)?.trim();
    if (!last) return null;
    this.lines.push(last);
    if (this.lines.length > this.max) this.lines.shift();
    return last;
  }

  get(): string[] {
    return [...this.lines];
  }

  /** A copy without the lines matching `drop`. */
  without(drop: (line: string) => boolean): TailBuffer {
    const t = new TailBuffer(this.max);
    for (const l of this.lines) if (!drop(l)) t.add(l);
    return t;
  }
}

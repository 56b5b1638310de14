// I/O: scrapes Prometheus pages on a fixed interval (default once a second) from several URLs, parses them and hands
// each page to a mapper (server-metrics.ts for serving engines' {base}/metrics, dcgm.ts for DCGM exporters). Bounded:
// at most one scrape per URL in flight (a slow endpoint skips ticks instead of piling requests up), a per-scrape
// timeout, a size limit per page, and only the last sample per URL kept (for rates). Tolerant: a URL answering 404
// (no /metrics: SGLang without --enable-metrics, llama.cpp without --metrics, transformers serve) or refusing is said
// once, then retried quietly every RETRY_AFTER_MISSES ticks; it comes back by itself when it starts answering.
import { httpGet, type Agents } from '../util/http-get.js';
import { nowMs } from '../util/clock.js';
import { parsePrometheusText, type PromPage } from './prometheus.js';

export const DEFAULT_SCRAPE_INTERVAL_MS = 1000;
/** A scrape slower than this is abandoned (and the tick counted as missed). */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
/** After a failure, try again every this many ticks. */
export const RETRY_AFTER_MISSES = 10;
export const PAGE_LIMIT_BYTES = 32 * 1024 * 1024;

export interface ScrapeTarget {
  /** Where to GET the page, e.g. http://host:8000/metrics or http://host:9400/metrics. */
  readonly url: URL;
  /** What messages and samples call it (no credentials). */
  readonly display: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ScrapeProblem {
  readonly atMs: number;
  readonly target: string;
  readonly level: 'info' | 'warn';
  readonly message: string;
}

export interface PageSamplerOptions<T> {
  readonly targets: readonly ScrapeTarget[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Turns a parsed page into the caller's sample; called once per successful scrape. */
  readonly map: (page: PromPage, target: ScrapeTarget, atMs: number) => T;
  readonly onSample: (sample: T, target: ScrapeTarget) => void;
  readonly onProblem?: (p: ScrapeProblem) => void;
  readonly agents?: Agents;
}

interface TargetState {
  inFlight: boolean;
  failing: boolean;
  skip: number;
  saidParse: boolean;
}

export class PageSampler<T> {
  private timer: NodeJS.Timeout | null = null;
  private readonly states: TargetState[];
  private readonly last = new Map<string, T>();
  private stopped = false;

  constructor(private readonly opts: PageSamplerOptions<T>) {
    this.states = opts.targets.map(() => ({ inFlight: false, failing: false, skip: 0, saidParse: false }));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The latest sample of a target (by display URL), if any. */
  latest(display: string): T | undefined {
    return this.last.get(display);
  }

  /** One scrape of every target now (tests; also what each tick does). */
  async scrapeAll(): Promise<void> {
    await Promise.all(this.opts.targets.map((t, i) => this.scrape(t, this.states[i])));
  }

  private tick(): void {
    this.opts.targets.forEach((t, i) => {
      const st = this.states[i];
      if (st.inFlight) return;
      if (st.failing && st.skip > 0) {
        st.skip--;
        return;
      }
      void this.scrape(t, st);
    });
  }

  private problem(target: ScrapeTarget, level: 'info' | 'warn', message: string): void {
    this.opts.onProblem?.({ atMs: nowMs(), target: target.display, level, message });
  }

  private async scrape(t: ScrapeTarget, st: TargetState): Promise<void> {
    if (st.inFlight || this.stopped) return;
    st.inFlight = true;
    try {
      const r = await httpGet(t.url, { headers: t.headers ?? {}, timeoutMs: this.opts.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS, accept: 'text/plain', limitBytes: PAGE_LIMIT_BYTES, ...(this.opts.agents ? { agents: this.opts.agents } : {}) });
      if (this.stopped) return;
      if (!r.ok) {
        if (!st.failing) {
          const hint = r.status === 404 ? ' (no metrics page: SGLang needs --enable-metrics, llama.cpp --metrics; transformers serve has none)' : '';
          this.problem(t, 'warn', `${t.display}: cannot scrape ${t.url.pathname}: ${r.error}${hint}; retrying quietly every ${RETRY_AFTER_MISSES} intervals`);
        }
        st.failing = true;
        st.skip = RETRY_AFTER_MISSES - 1;
        return;
      }
      if (st.failing) this.problem(t, 'info', `${t.display}: ${t.url.pathname} answers again`);
      st.failing = false;
      const atMs = nowMs();
      const page = parsePrometheusText(r.text);
      if (page.problems.length > 0 && !st.saidParse) {
        st.saidParse = true;
        const p = page.problems[0];
        this.problem(t, 'warn', `${t.display}: ${page.problems.length} unreadable line(s) in ${t.url.pathname}, first at line ${p.lineNumber}: ${p.message} (said once)`);
      }
      const sample = this.opts.map(page, t, atMs);
      this.last.set(t.display, sample);
      this.opts.onSample(sample, t);
    } finally {
      st.inFlight = false;
    }
  }
}

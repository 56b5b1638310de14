// Test helper: headless Chromium (Debian's `chromium` package) driven over the DevTools protocol through a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL on file descriptors 3 and 4), so no port is opened and no
// npm dependency is needed. Every proxied or resolved address points at nothing on this machine (a dead loopback
// proxy, host names that never resolve), so even the browser's own traffic cannot leave it; the tests also block
// and record every request a page makes (see `openPage`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { signalChild } from '../../src/util/signal-child.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];

/** $CHROMIUM, else the first browser installed at a usual path; null when there is none. */
export function findChromium(): string | null {
  const env = process.env.CHROMIUM;
  if (env) return existsSync(env) ? env : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string };

const LAUNCH_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 60_000;

export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: CdpEvent) => void>();
  private buffer = '';
  private stderrTail = '';
  private exited: string | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.onData(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (this.stderrTail = (this.stderrTail + s).slice(-4000)));
    child.on('exit', (code, signal) => {
      this.exited = `chromium exited (${signal ?? code})`;
      for (const p of this.pending.values()) p.reject(new Error(`${this.exited} during ${p.method}: ${this.stderrTail.slice(-800)}`));
      this.pending.clear();
    });
  }

  /** Starts the browser headless and waits until it answers; rejects with its stderr when it cannot start. */
  static async launch(executable: string): Promise<Chromium> {
    const profile = mkdtempSync(join(tmpdir(), 'gb-chromium-'));
    const args = [
      '--headless',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-sync',
      '--metrics-recording-only',
      '--mute-audio',
      '--hide-scrollbars',
      '--force-color-profile=srgb',
      // Nothing may leave this machine: every proxied request goes to a closed loopback port, no name resolves.
      '--proxy-server=127.0.0.1:9',
      '--proxy-bypass-list=<-loopback>',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      'about:blank',
    ];
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const browser = new Chromium(child, profile);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        browser.send('Browser.getVersion'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${LAUNCH_TIMEOUT_MS} ms`)), LAUNCH_TIMEOUT_MS))),
        new Promise((_, reject) => child.once('error', reject)),
      ]);
    } catch (err) {
      const why = `${(err as Error).message}${browser.stderrTail ? `; stderr: ${browser.stderrTail.slice(-800)}` : ''}`;
      await browser.close();
      throw new Error(`chromium (${executable}) did not start: ${why}`);
    } finally {
      clearTimeout(timer);
    }
    return browser;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
      const msg = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      this.buffer = this.buffer.slice(end + 1);
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (!p) continue;
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        const e: CdpEvent = { method: msg.method, params: msg.params ?? {}, ...(msg.sessionId ? { sessionId: msg.sessionId } : {}) };
        for (const l of this.listeners) l(e);
      }
    }
  }

  /** A DevTools protocol call (on a page's session when `sessionId` is given). */
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.exited}: cannot call ${method}`));
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      (this.child.stdio[3] as Writable).write(`${msg}\0`);
    });
  }

  /** Calls `fn` with every event; returns the function that stops it. */
  on(fn: (e: CdpEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.send('Browser.close').catch(() => {});
      const timer = setTimeout(() => signalChild(this.child, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    // The pipes stay open after the browser exits and would keep this process alive.
    for (const s of [this.child.stdio[3], this.child.stdio[4], this.child.stderr]) (s as Readable | Writable | null)?.destroy();
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** What a page did while it was open: every request it tried, and every error it reported. */
export interface PageLog {
  /** URLs the page requested other than itself (each blocked before it was sent). */
  readonly requests: string[];
  /** Console errors, uncaught exceptions and browser log errors (CSP violations, failed loads). */
  readonly errors: string[];
}

export interface Page {
  readonly log: PageLog;
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the page's top `height` CSS pixels at the viewport's width. */
  screenshot(height: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Opens `fileUrl` in a new tab `width` CSS pixels wide and waits for its load event. Every request the page makes
 * is intercepted: the page itself is let through, anything else is recorded and failed before it is sent.
 */
export async function openPage(browser: Chromium, fileUrl: string, width = 1200, height = 900): Promise<Page> {
  const { targetId } = await browser.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  const call = <T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) => browser.send<T>(method, params, sessionId);
  const log: PageLog = { requests: [], errors: [] };
  let loaded: () => void = () => {};
  const load = new Promise<void>((r) => (loaded = r));
  const other = (url: string) => url !== fileUrl && url !== 'about:blank';
  const off = browser.on((e) => {
    if (e.sessionId !== sessionId) return;
    const p = e.params as Record<string, any>;
    switch (e.method) {
      case 'Fetch.requestPaused':
        if (other(p.request.url)) {
          if (!log.requests.includes(p.request.url)) log.requests.push(p.request.url);
          void call('Fetch.failRequest', { requestId: p.requestId, errorReason: 'BlockedByClient' }).catch(() => {});
        } else void call('Fetch.continueRequest', { requestId: p.requestId }).catch(() => {});
        break;
      case 'Network.requestWillBeSent':
        if (other(p.request.url) && !log.requests.includes(p.request.url)) log.requests.push(p.request.url);
        break;
      case 'Runtime.consoleAPICalled':
        if (p.type === 'error' || p.type === 'assert') log.errors.push(`console.${p.type}: ${(p.args ?? []).map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(' ')}`);
        break;
      case 'Runtime.exceptionThrown':
        log.errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
        break;
      case 'Log.entryAdded':
        if (p.entry.level === 'error') log.errors.push(`log (${p.entry.source}): ${p.entry.text}${p.entry.url ? ` ${p.entry.url}` : ''}`);
        break;
      case 'Page.loadEventFired':
        loaded();
        break;
    }
  });
  await Promise.all([call('Page.enable'), call('Runtime.enable'), call('Log.enable'), call('Network.enable'), call('Fetch.enable', { patterns: [{ urlPattern: '*' }] })]);
  await call('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  const nav = await call<{ errorText?: string }>('Page.navigate', { url: fileUrl });
  if (nav.errorText) throw new Error(`cannot open ${fileUrl}: ${nav.errorText}`);
  await load;
  return {
    log,
    async evaluate<T>(expression: string): Promise<T> {
      const r = await call<{ result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    },
    async screenshot(h: number): Promise<Buffer> {
      const r = await call<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height: h, scale: 1 } });
      return Buffer.from(r.data, 'base64');
    },
    async close() {
      off();
      await browser.send('Target.closeTarget', { targetId }).catch(() => {});
    },
  };
}

// One onnx replica: a worker thread owning its own InferenceSessions, so session.run (which blocks its thread)
// never blocks the UI or the other replicas. It preprocesses each request of a micro-batch (src/panscan), runs
// generate.ts, and answers with per-request results. A bad image fails its own request; a failing session.run
// fails the batch and the replica carries on.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { GraphIoInfo } from '../../../model/layout.js';
import { PixelBufferPool } from '../../../panscan/pixel-buffers.js';
import { preprocessFile, type PreprocessedImage } from '../../../panscan/preprocess.js';
import { gemmaTokenizer } from '../../../panscan/tokenizer.js';
import { failedResult, type InferRequest, type InferResult } from '../../backend.js';
import { nowMs } from '../../../util/clock.js';
import { floatIoTypes, generateBatch, type OnnxSessions } from './generate.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from './protocol.js';

if (!parentPort) throw new Error('onnx worker must run in a worker thread');
const port = parentPort;
const send = (m: WorkerToMain) => port.postMessage(m);

let init: WorkerInit | undefined;
let sessions: OnnxSessions | undefined;
let batchesStarted = 0;
const buffers = new PixelBufferPool(false);
let queue: Promise<void> = Promise.resolve();
/** Batches asked to stop early; 'cancel' is read between decode steps, since session.run yields via setImmediate. */
const cancelled = new Set<number>();
let lastFinishedBatch = -1;

/**
 * Set by 'close' as soon as it arrives: the batch in progress stops after its current step and batches still
 * queued are answered without running. The thread then releases its sessions and ends on its own: it is never
 * terminated from outside, since ending a thread inside a native onnxruntime call aborts the whole process.
 */
let closing = false;

port.on('message', (m: MainToWorker) => {
  if (m.type === 'cancel') {
    if (m.batchId > lastFinishedBatch) cancelled.add(m.batchId);
    return;
  }
  if (m.type === 'close') closing = true;
  // Messages are handled strictly in order: one batch at a time, like a real serving replica.
  queue = queue.then(() => handle(m)).catch((err: unknown) => send({ type: 'log', level: 'error', message: String((err as Error).stack ?? err) }));
});

async function handle(m: MainToWorker): Promise<void> {
  switch (m.type) {
    case 'init':
      await start(m);
      return;
    case 'infer':
      if (closing) {
        send({ type: 'result', batchId: m.batchId, results: m.requests.map((r) => failedResult(r.id, 'the replica was closing')) });
        return;
      }
      await inferBatch(m.batchId, m.requests, m.stream === true);
      cancelled.delete(m.batchId);
      lastFinishedBatch = m.batchId;
      return;
    case 'close':
      await Promise.all([sessions?.vision.release(), sessions?.embed.release(), sessions?.decoder.release()]);
      port.close();
      return;
  }
}

async function start(m: WorkerInit): Promise<void> {
  init = m;
  const t0 = nowMs();
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: m.ep === 'cuda' ? [{ name: 'cuda', deviceId: m.deviceId }] : ['cpu'],
    intraOpNumThreads: m.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  try {
    const [vision, embed, decoder] = await Promise.all([
      ort.InferenceSession.create(m.files.visionEncoder, opts),
      ort.InferenceSession.create(m.files.embedTokens, opts),
      ort.InferenceSession.create(m.files.decoder, opts),
    ]);
    sessions = { vision, embed, decoder, hasLogitsToKeep: decoder.inputNames.includes('num_logits_to_keep'), io: floatIoTypes(vision, embed, decoder) };
    gemmaTokenizer(); // load the vocabulary now, not inside the first request's timing
    const io = (graph: GraphIoInfo['graph'], file: string, s: ort.InferenceSession): GraphIoInfo => ({
      graph,
      file,
      inputNames: [...s.inputNames],
      outputNames: [...s.outputNames],
      // Element types too, so the layout check can name a graph whose I/O is neither float32 nor float16.
      inputMetadata: s.inputMetadata.map(plainMeta),
      outputMetadata: s.outputMetadata.map(plainMeta),
    });
    send({
      type: 'ready',
      loadMs: nowMs() - t0,
      graphs: [io('vision_encoder', m.files.visionEncoder, vision), io('embed_tokens', m.files.embedTokens, embed), io('decoder_model_merged', m.files.decoder, decoder)],
      hasLogitsToKeep: sessions.hasLogitsToKeep,
    });
  } catch (err) {
    send({ type: 'fatal', message: (err as Error).message });
  }
}

/** Structured-clone-safe metadata (the session's objects may carry more than the layout check reads). */
function plainMeta(m: ort.InferenceSession.ValueMetadata): { name: string; isTensor: boolean; type?: string } {
  return m.isTensor ? { name: m.name, isTensor: true, type: m.type } : { name: m.name, isTensor: false };
}

async function inferBatch(batchId: number, requests: readonly InferRequest[], stream: boolean): Promise<void> {
  if (!init || !sessions) {
    send({ type: 'result', batchId, results: requests.map((r) => failedResult(r.id, 'replica not initialised')) });
    return;
  }
  batchesStarted++;
  if (init.exitAfterBatches !== null && batchesStarted > init.exitAfterBatches) process.exit(3);
  const startedAt = nowMs();
  const prepared: { req: InferRequest; pre: PreprocessedImage }[] = [];
  const results = new Map<number, InferResult>();
  for (const req of requests) {
    try {
      prepared.push({ req, pre: await preprocessFile(req.imagePath, req.preprocess, { prompt: req.prompt, buffers }) });
    } catch (err) {
      results.set(req.id, failedResult(req.id, (err as Error).message));
    }
  }
  // Requests in one batch share the decode loop, so they share maxNewTokens: the largest asked for.
  const maxNew = Math.max(0, ...prepared.map((p) => p.req.maxNewTokens));
  if (prepared.length > 0) {
    try {
      const out = await generateBatch(
        sessions,
        init.shape,
        prepared.map((p) => ({ pixelValues: p.pre.pixelValues, entries: 1 + p.pre.numCrops, inputIds: p.pre.inputIds! })),
        maxNew,
        undefined,
        {
          ...(stream ? { onStep: (step: number, tokenIds: readonly number[]) => send({ type: 'token', batchId, step, tokenIds }) } : {}),
          shouldStop: () => closing || cancelled.has(batchId),
        },
      );
      prepared.forEach((p, i) => {
        // Fewer than asked for only when the batch was cancelled.
        const n = Math.min(p.req.maxNewTokens, out.tokenTimes.length);
        results.set(p.req.id, {
          id: p.req.id,
          ok: true,
          error: null,
          crops: p.pre.numCrops,
          imageTokens: p.pre.imageTokens,
          promptTokens: p.pre.inputIds!.length,
          outputTokens: n,
          preprocessMs: p.pre.timings.totalMs,
          visionMs: out.visionMs,
          startedAt,
          tokenTimes: out.tokenTimes.slice(0, n),
          tokenIds: out.tokenIds[i].slice(0, n),
        });
      });
    } catch (err) {
      const msg = `inference failed: ${(err as Error).message}`;
      for (const p of prepared) results.set(p.req.id, failedResult(p.req.id, msg));
    }
  }
  for (const p of prepared) buffers.release(p.pre.pixelValues);
  send({ type: 'result', batchId, results: requests.map((r) => results.get(r.id)!) });
}

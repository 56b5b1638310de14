// Messages between the onnx backend (main thread) and its replica worker threads. Plain structured-clone data.
import type { GraphIoInfo } from '../../../model/layout.js';
import type { InferRequest, InferResult } from '../../backend.js';

export interface OnnxModelFiles {
  readonly visionEncoder: string;
  readonly embedTokens: string;
  readonly decoder: string;
}

export interface DecoderShape {
  readonly numLayers: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly imageTokenId: number;
  readonly padTokenId: number;
}

export interface WorkerInit {
  readonly type: 'init';
  readonly replica: number;
  readonly files: OnnxModelFiles;
  readonly shape: DecoderShape;
  readonly ep: 'cpu' | 'cuda';
  readonly deviceId: number;
  readonly intraOpThreads: number;
  /** Test-only fault injection: exit the thread when this many batches have started. */
  readonly exitAfterBatches: number | null;
}

export type MainToWorker =
  | WorkerInit
  // stream: post a 'token' message per decode step (only when the caller gave an onToken hook).
  | { readonly type: 'infer'; readonly batchId: number; readonly requests: readonly InferRequest[]; readonly stream?: boolean }
  // Handled as soon as it arrives (between decode steps), not queued behind the batch it cancels.
  | { readonly type: 'cancel'; readonly batchId: number }
  | { readonly type: 'close' };

export type WorkerToMain =
  | { readonly type: 'ready'; readonly loadMs: number; readonly graphs: readonly GraphIoInfo[]; readonly hasLogitsToKeep: boolean }
  | { readonly type: 'fatal'; readonly message: string }
  | { readonly type: 'result'; readonly batchId: number; readonly results: readonly InferResult[] }
  /** One decode step of a streamed batch: tokenIds[r] is request r's token (batch order). */
  | { readonly type: 'token'; readonly batchId: number; readonly step: number; readonly tokenIds: readonly number[] }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

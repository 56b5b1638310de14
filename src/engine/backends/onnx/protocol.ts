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

export type MainToWorker = WorkerInit | { readonly type: 'infer'; readonly batchId: number; readonly requests: readonly InferRequest[] } | { readonly type: 'close' };

export type WorkerToMain =
  | { readonly type: 'ready'; readonly loadMs: number; readonly graphs: readonly GraphIoInfo[]; readonly hasLogitsToKeep: boolean }
  | { readonly type: 'fatal'; readonly message: string }
  | { readonly type: 'result'; readonly batchId: number; readonly results: readonly InferResult[] }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

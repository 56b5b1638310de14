// Messages between a transformers replica (main thread) and its ts-preprocessing thread. Structured-clone data.
import type { InferRequest } from '../../backend.js';

export interface PrepInit {
  readonly replica: number;
  /** Where pixel files go (normally /dev/shm). */
  readonly dir: string;
}

export type MainToPrep = { readonly type: 'prepare'; readonly batchId: number; readonly requests: readonly InferRequest[] } | { readonly type: 'close' };

export type PreparedItem =
  | {
      readonly id: number;
      readonly ok: true;
      /** Raw little-endian float32 pixel values [1 + crops, 3, 896, 896]. */
      readonly path: string;
      readonly shape: readonly [number, 3, 896, 896];
      readonly inputIds: readonly number[];
      readonly crops: number;
      readonly imageTokens: number;
      /** read + decode + crops + resize/normalize + tokenize (the file write is transport, not counted). */
      readonly preprocessMs: number;
      /** nowMs() when preprocessing of this request began: the replica started on it. */
      readonly startedAt: number;
    }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly startedAt: number };

export type PrepToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'prepared'; readonly batchId: number; readonly items: readonly PreparedItem[] }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

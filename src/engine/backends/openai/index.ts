// The openai backend's public face (what the run/sweep commands and the backend registry import): the backend and
// its options, the pan-and-scan parity helpers, and the pure pieces other layers may reuse (endpoint
// normalization, the SSE parser, the stream-timing fold).
export { ENDPOINT_CAPACITY, OpenAIBackend, OpenAIBackendError, panScanMismatchShare, panScanParity, type HttpDetails, type OpenAIBackendOptions, type OpenAIInferResult } from './backend.js';
export { DEFAULT_REQUEST_TIMEOUT_S } from './client.js';
export { DEFAULT_API_KEY_ENV, MODELS_TIMEOUT_S, normalizeEndpoint, Redactor, type Endpoint } from './models.js';
export { chatBodyObject, mmProcessorKwargs, type BodyOptions, type MaxTokensField } from './request-body.js';
export { parseSse, SseParser, type SseEvent } from './sse.js';
export { foldStream, StreamFold, tokenTimesFor, vllmTpotMs, type StreamMeasurement, type TtftMode } from './stream-timing.js';
export { ImageStore, type PreparedImage } from './unique-images.js';

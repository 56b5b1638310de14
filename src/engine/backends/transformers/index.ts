// The transformers backend's public face (what the run/sweep commands import): the backend, its options and
// flags, and the errors it reports. Hugging Face transformers workers, one Python process per replica, each
// sharded over its own group of GPUs; see backend.ts (start-up, replicas), replica.ts (process life),
// protocol.ts (wire format) and python/gemma_bench_worker.py (the GPU side).
export { MODEL_SIZES, PUBLISHED_PARAMETERS, TransformersBackend, validateOptions, type TransformersBackendOptions } from './backend.js';
export { TransformersBackendError } from './errors.js';
export { PROTOCOL_VERSION, WORKER_EXIT } from './protocol.js';
export { DEFAULT_PYTHON, PYTHON_ENV, WORKER_SCRIPT, type Attention, type Dtype, type KvCache, type ModelSize, type PreprocessMode } from './python.js';
export { assignGpuGroups, parseCudaVisibleDevices, resolveReplicaCount, TopologyError, type GpuGroup, type VisibleGpus } from './topology.js';

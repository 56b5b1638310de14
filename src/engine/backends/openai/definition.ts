// The openai backend as the registry knows it: OpenAI-compatible servers (vLLM, SGLang, TGI, llama.cpp, transformers
// serve), one replica per endpoint. Its flags and typed options, and a factory that loads the HTTP client only when
// a run needs it. Every endpoint must answer /v1/models before anything runs (a configuration error otherwise).
import type { z } from 'zod';
import { ConfigError } from '../../../config/errors.js';
import { objectSchema, type Field } from '../../../config/fields.js';
import type { BackendDefinition } from '../../backend.js';
import { ONNX_FIELDS } from '../onnx/definition.js';

export const OPENAI_FIELDS = [
  { flag: 'endpoint', key: 'endpoints', type: { kind: 'list' }, placeholder: 'URL', description: 'openai: a server base URL, with or without /v1; one replica per endpoint, requests go to the least loaded' },
  ONNX_FIELDS[0],
  { flag: 'api-key-env', key: 'apiKeyEnv', type: { kind: 'string' }, placeholder: 'VAR', description: 'openai: environment variable holding the API key, sent as Authorization: Bearer (default OPENAI_API_KEY); never saved or printed' },
  { flag: 'ttft', key: 'ttftMode', type: { kind: 'enum', values: ['choices', 'first-content'] }, placeholder: 'choices|first-content', description: 'openai: TTFT ends at the first chunk with choices (vllm bench serve, default) or the first non-empty content (transformers serve sends its role chunk first)' },
  { flag: 'no-ignore-eos', key: 'ignoreEos', type: { kind: 'flag', negates: true }, description: 'openai: do not send ignore_eos (for servers that reject it; outputs may then end early)' },
  { flag: 'max-tokens-field', key: 'maxTokensField', type: { kind: 'enum', values: ['max_completion_tokens', 'max_tokens'] }, placeholder: 'max_completion_tokens|max_tokens', description: 'openai: the field that carries the token budget (default max_completion_tokens)' },
  { flag: 'no-stream-usage', key: 'includeUsage', type: { kind: 'flag', negates: true }, description: 'openai: do not send stream_options (transformers serve answers 422); output tokens are then re-tokenized' },
  { flag: 'no-mm-kwargs', key: 'mmProcessorKwargs', type: { kind: 'flag', negates: true }, description: "openai: do not send mm_processor_kwargs (the server's own pan-and-scan settings apply; the parity check shows them)" },
  { flag: 'extra-body', key: 'extraBody', type: { kind: 'json-object' }, placeholder: 'JSON', description: 'openai: a JSON object merged into every request body last' },
  { flag: 'request-timeout', key: 'requestTimeoutS', type: { kind: 'number', min: 0, exclusiveMin: true }, placeholder: 'S', description: 'openai: a request that takes longer fails with the reason (default 600)' },
  { flag: 'no-unique-images', key: 'uniqueImages', type: { kind: 'flag', negates: true }, description: "openai: send each image as is (default: each request's image differs by one pixel bit, so server caches cannot flatter the results)" },
  { flag: 'metrics-url', key: 'metricsUrls', type: { kind: 'list' }, placeholder: 'URL', description: "openai: an endpoint's Prometheus page, in endpoint order (default {base}/metrics)" },
  { flag: 'no-server-metrics', key: 'serverMetrics', type: { kind: 'flag', negates: true }, description: "openai: do not scrape the servers' /metrics" },
  { flag: 'gpu-name', key: 'gpuName', type: { kind: 'string' }, placeholder: 'NAME', description: "openai: the servers' GPU model as nvidia-smi names it (e.g. \"NVIDIA H100 80GB HBM3\"), for the run's roofline when no --dcgm-url names it; GPUs per server from --gpus-per-replica" },
  { flag: 'dcgm-url', key: 'dcgmUrls', type: { kind: 'list' }, placeholder: 'URL', description: "openai: a DCGM exporter (usually http://host:9400/metrics) for an endpoint's GPUs, in endpoint order" },
] as const satisfies readonly Field[];

export interface OpenAIOptions {
  readonly endpoints?: readonly string[];
  readonly model?: string;
  readonly apiKeyEnv?: string;
  readonly ttftMode?: 'choices' | 'first-content';
  readonly ignoreEos?: boolean;
  readonly maxTokensField?: 'max_completion_tokens' | 'max_tokens';
  readonly includeUsage?: boolean;
  readonly mmProcessorKwargs?: boolean;
  readonly extraBody?: Readonly<Record<string, unknown>>;
  readonly requestTimeoutS?: number;
  readonly uniqueImages?: boolean;
  readonly metricsUrls?: readonly string[];
  readonly serverMetrics?: boolean;
  readonly dcgmUrls?: readonly string[];
  readonly gpuName?: string;
}

export const openaiDefinition: BackendDefinition<'openai', OpenAIOptions> = {
  name: 'openai',
  summary: 'OpenAI-compatible servers (vLLM, SGLang, TGI, llama.cpp), one replica per --endpoint',
  runsOn: 'endpoints',
  fields: OPENAI_FIELDS,
  options: objectSchema(OPENAI_FIELDS) as unknown as z.ZodType<OpenAIOptions>,
  async create(o, ctx) {
    const endpoints = o.endpoints ?? [];
    if (endpoints.length === 0) throw new ConfigError('the openai backend needs at least one --endpoint URL (a server base URL such as http://127.0.0.1:8000)');
    for (const [flag, list] of [['--metrics-url', o.metricsUrls], ['--dcgm-url', o.dcgmUrls]] as const) {
      if (list && list.length > endpoints.length) throw new ConfigError(`${flag} is given ${list.length} times for ${endpoints.length} endpoint(s): give at most one per --endpoint, in the same order`);
    }
    const { OpenAIBackend, OpenAIBackendError } = await import('./backend.js');
    try {
      return await OpenAIBackend.create({ ...o, endpoints, log: ctx.log, ...(ctx.env ? { env: ctx.env } : {}) });
    } catch (err) {
      if (err instanceof OpenAIBackendError && err.stage === 'configuration') throw new ConfigError(err.message);
      throw err;
    }
  },
};

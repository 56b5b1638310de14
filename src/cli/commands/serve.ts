// `gemma-bench serve`: argument parsing and --help for the OpenAI-compatible test server, then startServer and
// serveUntilSignal. Prints one line when ready (JSON with --json), logs to stderr. Exit codes: 2 bad usage or
// configuration, 130/143 stopped by SIGINT/SIGTERM.
import { flag, helpText, num, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_OK } from '../command.js';
import type { LogFn } from '../../engine/backend.js';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from '../../serve/http-server.js';
import { serveUntilSignal } from '../../serve/signals.js';
import { ensureDataDirWritable } from '../../store/data-dir.js';
import { PREPROCESS_FIELDS } from '../../config/run-spec.js';
import { optionsOf } from '../run-flags.js';

export const command: CommandDef = {
  name: 'serve',
  summary: 'serve the embedded onnx model behind vLLM\'s OpenAI-compatible API (a test and demo server)',
  usage: '[options]',
  details:
    'Runs the onnx backend (by default the built-in tiny Gemma 3 with random weights: speed only) behind vLLM\'s\n' +
    'OpenAI-compatible HTTP API, so the whole HTTP path runs on a machine with no GPU: POST /v1/chat/completions\n' +
    '(streamed or not; one user message with one image as a base64 data URL and its text; mm_processor_kwargs for\n' +
    'pan-and-scan), GET /v1/models, /health and /metrics (vLLM\'s metric names). Decoding is always greedy.\n' +
    'Requests beyond the replicas wait in a queue. It listens on 127.0.0.1 unless --host says otherwise. It is a\n' +
    'test and demo server, not a production one. Ctrl-C or SIGTERM stops it (exit 130/143).',
  options: {
    host: { type: 'string', placeholder: 'ADDR', description: `address to listen on (default ${DEFAULT_HOST}; anything else must be given here)` },
    port: { type: 'string', placeholder: 'N', description: `port (default ${DEFAULT_PORT}; 0 picks a free one)` },
    model: { type: 'string', placeholder: 'tiny|DIR', description: 'the built-in tiny model (default) or an ONNX export directory (onnx-community layout); requests name it as given' },
    replicas: { type: 'string', placeholder: 'N', description: 'worker-thread replicas (default 1)' },
    threads: { type: 'string', placeholder: 'N', description: 'CPU threads shared by the replicas (default: all cores)' },
    'max-model-len': { type: 'string', placeholder: 'N', description: 'context length in tokens (default: the model\'s max_position_embeddings)' },
    ...optionsOf([PREPROCESS_FIELDS.pixelLimit]),
    json: { type: 'boolean', description: 'when ready, print one JSON line {url, model, replicas} instead of the human one' },
  },
  examples: ['gemma-bench serve', 'gemma-bench serve --port 0 --replicas 2 --json', 'gemma-bench serve --model ./gemma-3-4b-it-onnx --host 0.0.0.0'],
};

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`serve takes no positional arguments (got ${positionals.join(' ')}). Run \`gemma-bench serve --help\`.`);
  const host = str(values, 'host');
  const port = num(values, 'port', { integer: true, min: 0, max: 65535 });
  const replicas = num(values, 'replicas', { integer: true, min: 1 });
  const threads = num(values, 'threads', { integer: true, min: 1 });
  const maxModelLen = num(values, 'max-model-len', { integer: true, min: 2 });
  const pixelLimit = num(values, 'pixel-limit', { integer: true, min: 1 });
  const model = str(values, 'model') ?? 'tiny';
  const log: LogFn = (level, message) => process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
  // The built-in model is built into the data directory on first use: check it can be written before anything loads.
  if (model === 'tiny') await ensureDataDirWritable();
  const server = await startServer({
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(maxModelLen !== undefined ? { maxModelLen } : {}),
    ...(pixelLimit !== undefined ? { pixelLimit } : {}),
    model,
    log,
  });
  const n = server.replicas;
  if (flag(values, 'json')) process.stdout.write(`${JSON.stringify({ url: server.url, model: server.model.id, replicas: n })}\n`);
  else {
    process.stdout.write(
      `gemma-bench serve: listening on ${server.url} (model ${server.model.id}: ${server.model.label}, ${n} replica${n === 1 ? '' : 's'}; a test and demo server, not a production one)\n`,
    );
  }
  // Installed first and never removed: when serveUntilSignal removes its own handlers, a signal must still find one
  // (with none, Node restores the default action, and a signal at that instant would end the process under its
  // replica threads). Until then serveUntilSignal says what each signal does; afterwards this does.
  let served = false;
  const later = () => {
    if (served) log('warn', 'already stopping: the replica threads end after their current step');
  };
  process.on('SIGINT', later);
  process.on('SIGTERM', later);
  const code = await serveUntilSignal(server, { log });
  served = true;
  return code;
}

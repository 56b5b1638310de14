// The child process of bench/http.ts: a minimal vLLM-shaped /v1/chat/completions server on 127.0.0.1 with a fixed
// schedule (role chunk and first token FIRST_MS after the request body arrived, then one token every EVERY_MS, then
// the usage chunk and [DONE]). The usage chunk carries `server_ttft_ms`: when, after the body arrived, this server
// actually wrote the first chunk (its own TTFT, as vLLM's server-side histogram would see it), so the client can
// compare its measurement with the server's. Prints "PORT <n>" when listening; on "stop" (stdin) prints
// "CPU <user+system ms>" and exits.
//   node dist/bench/http-sse-server.js FIRST_MS EVERY_MS TOKENS
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const firstMs = Number(process.argv[2] ?? 20);
const everyMs = Number(process.argv[3] ?? 5);
const tokens = Number(process.argv[4] ?? 16);

const head = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m","choices":[';
const role = `data: ${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
const tokenFrame = (i: number) => `data: ${head}{"index":0,"delta":{"content":" t${i}"},"logprobs":null,"finish_reason":${i === tokens - 1 ? '"length"' : 'null'}}]}\n\n`;
const frames = Array.from({ length: tokens }, (_, i) => tokenFrame(i));

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"object":"list","data":[{"id":"m","object":"model"}]}');
    return;
  }
  req.on('data', () => {});
  req.on('end', () => {
    const arrived = performance.now();
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let i = 0;
    let firstWrite = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (i === 0) {
        firstWrite = performance.now() - arrived;
        res.write(role + frames[0]);
      } else {
        res.write(frames[i]);
      }
      i++;
      if (i < tokens) {
        // Absolute schedule from arrival, so timer lateness does not accumulate.
        setTimeout(tick, Math.max(0, arrived + firstMs + i * everyMs - performance.now()));
      } else {
        res.end(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1000,"total_tokens":${1000 + tokens},"completion_tokens":${tokens}},"server_ttft_ms":${firstWrite.toFixed(3)}}\n\ndata: [DONE]\n\n`);
      }
    };
    setTimeout(tick, Math.max(0, arrived + firstMs - performance.now()));
  });
});
server.keepAliveTimeout = 60_000;
server.on('connection', (s) => s.setNoDelay(true));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('data', (d) => {
  if (String(d).includes('stop')) {
    const u = process.cpuUsage();
    process.stdout.write(`CPU ${((u.user + u.system) / 1000).toFixed(0)}\n`);
    server.close();
    process.exit(0);
  }
});

#!/usr/bin/env bash
# gemma-bench GPU smoke test (issue 11): what no CPU test can check, on a one-GPU H100/H200 box that has Python with
# torch and transformers (and accelerate) but no Node on PATH. Run it first on any GPU machine, from the checkout
# (built: dist/ and node_modules/ present), and fix what it finds:
#
#     scripts/gpu-smoke.sh /path/to/node [python]        (python: default $GEMMA_BENCH_PYTHON, else python3)
#
# It prints one PASS, FAIL or SKIP line per check and exits 1 if any failed; the whole script stops at 8 minutes
# (each check has its own limit too). Each check's output is kept in a log directory named at the end.
#   1 the Python unit tests (test/python, torch tests included)
#   2 nvidia-smi's -lms sample loop parsed by gemma-bench's sampler on the real GPU
#   3 static KV cache reuse on 4B random weights: two batches of the same request give identical greedy tokens and
#     the worker never falls back to generate(cache_implementation='static')
#   4 the 27B random-weight self-test against a plain HF script's reference on an H100: TTFT <= 330 ms for a
#     1074-token prompt with 3 crops (HF: 222-253 ms; the self-test's prompt has 1080 tokens), ITL <= 85 ms with the
#     dynamic cache (HF: 69-72 ms)
#   5 Node -> worker end to end: gemma-bench run --backend transformers on 4B random weights, nvidia-smi telemetry in
#     the events, peak GPU memory and the roofline in the saved run
#   6 --ep cuda: a run on onnxruntime's CUDA execution provider where it is installed (else its refusal, exit 2)
#   7 python/verify_tiny_model.py: the tiny model's logits from onnxruntime against Gemma3ForConditionalGeneration
set -u -o pipefail

TOTAL_LIMIT_S=480
TTFT_MAX_MS=330
ITL_MAX_MS=85

usage() {
  echo "usage: $0 NODE [PYTHON]   (NODE: the path of a node >= 20.9 binary; PYTHON: default \$GEMMA_BENCH_PYTHON, else python3)" >&2
  exit 2
}
[ $# -ge 1 ] || usage
NODE=$1
PY=${2:-${GEMMA_BENCH_PYTHON:-python3}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI="$ROOT/dist/src/cli/main.js"
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/gemma-bench-gpu-smoke.XXXXXX")
export GEMMA_BENCH_HOME="$LOGS/home"
export GEMMA_BENCH_PYTHON="$PY"
export NODE PY ROOT CLI LOGS TTFT_MAX_MS ITL_MAX_MS
export PYTHONDONTWRITEBYTECODE=1
START=$(date +%s)
PASSED=0
FAILED=0
SKIPPED=0

[ -x "$NODE" ] || { echo "FAIL 0 setup: $NODE is not an executable node binary" >&2; exit 2; }
"$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' || {
  echo "FAIL 0 setup: $("$NODE" --version) is older than Node 20.9" >&2
  exit 2
}
[ -f "$CLI" ] && [ -d "$ROOT/node_modules" ] || {
  echo "FAIL 0 setup: $ROOT is not built (dist/ and node_modules/ needed): PATH=$(dirname "$NODE"):\$PATH npm ci && npm run build" >&2
  exit 2
}
command -v timeout >/dev/null || { echo "FAIL 0 setup: coreutils' timeout is needed" >&2; exit 2; }

elapsed() { echo $(($(date +%s) - START)); }

# run_check N NAME LIMIT_S FUNCTION: runs the check FUNCTION (exported, in a child bash, so timeout can kill it with
# everything it started) under min(LIMIT_S, time left), its output to $LOGS/N.log. Its exit status: 0 PASS, 77 SKIP
# (its last output line is the reason), anything else FAIL. Its last output line is printed after PASS/SKIP as the
# detail; a failure prints the log's last lines.
run_check() {
  local n=$1 name=$2 limit=$3 fn=$4
  local left=$((TOTAL_LIMIT_S - $(elapsed)))
  if [ "$left" -lt 15 ]; then
    echo "FAIL $n $name: not run, the 8-minute limit is reached"
    FAILED=$((FAILED + 1))
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local log="$LOGS/$n.log" t0 rc
  t0=$(date +%s)
  export -f "$fn"
  (cd "$ROOT" && timeout --kill-after=10 "$limit" bash -c "$fn") >"$log" 2>&1
  rc=$?
  local took=$(($(date +%s) - t0)) last
  last=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-300)
  if [ $rc -eq 0 ]; then
    echo "PASS $n $name (${took} s): $last"
    PASSED=$((PASSED + 1))
  elif [ $rc -eq 77 ]; then
    echo "SKIP $n $name: $last"
    SKIPPED=$((SKIPPED + 1))
  else
    local why="exit $rc"
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${limit} s"
    echo "FAIL $n $name ($why, ${took} s); last lines of $log:"
    tail -n 15 "$log" | sed 's/^/    /'
    FAILED=$((FAILED + 1))
  fi
}

echo "gemma-bench GPU smoke test: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no git') · node $("$NODE" --version) · $("$PY" --version 2>&1) · $(nvidia-smi --query-gpu=index,uuid,name,memory.total,driver_version,pci.bus_id --format=csv,noheader 2>/dev/null | head -n 1 || echo 'no nvidia-smi')"
echo "logs: $LOGS"

# 1 ------------------------------------------------------------------------------------------------------------
check_python_tests() {
  "$PY" -m unittest discover -s test/python -v 2>&1
  local rc=$?
  [ $rc -eq 0 ] && echo "$(grep -c '\.\.\. ok$' "$LOGS/1.log" 2>/dev/null || true) tests ok, $(grep -c '\.\.\. skipped' "$LOGS/1.log" 2>/dev/null || true) skipped"
  return $rc
}
run_check 1 "Python unit tests" 120 check_python_tests

# 2 ------------------------------------------------------------------------------------------------------------
check_smi_loop() {
  "$NODE" --input-type=module -e "
    import { startNvidiaSmiSampler } from '$ROOT/dist/src/telemetry/nvidia-smi-sampler.js';
    import { probeNvidiaSmi } from '$ROOT/dist/src/telemetry/gpu-probe.js';
    const probe = await probeNvidiaSmi();
    if (!probe.ok) { console.log('nvidia-smi probe: ' + probe.message); process.exit(1); }
    const ticks = [], problems = [];
    const s = await startNvidiaSmiSampler({ intervalMs: 200, gpus: probe.gpus, onSample: (t) => ticks.push(t), onProblem: (p) => problems.push(p) });
    await new Promise((r) => setTimeout(r, 2500));
    await s.stop();
    const rows = ticks.flatMap((t) => t.gpus);
    const bad = rows.filter((g) => g.state !== 'ok' || g.name === null);
    const fields = ['utilPct', 'memUsedMiB', 'memTotalMiB', 'powerW', 'tempC', 'smClockMHz'];
    const missing = fields.filter((f) => rows.some((g) => g[f] === null));
    const serious = problems.filter((p) => p.level !== 'info');
    console.log(JSON.stringify(ticks.at(-1)));
    console.log(ticks.length + ' ticks of ' + probe.gpus.length + ' GPU(s) (' + [...new Set(probe.gpus.map((g) => g.name))].join(', ') + '), ' + bad.length + ' rows not ok, ' + serious.length + ' problems' + (serious.length ? ': ' + serious.map((p) => p.message).join('; ') : '') + (missing.length ? '; not reported: ' + missing.join(', ') : ''));
    process.exit(ticks.length >= 5 && bad.length === 0 && serious.length === 0 ? 0 : 1);
  "
}
run_check 2 "nvidia-smi -lms parse" 30 check_smi_loop

# 3 ------------------------------------------------------------------------------------------------------------
check_static_cache() {
  "$PY" - "$ROOT/python" <<'PYEOF'
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
import numpy as np
from gemma_bench import batch, cli, gemma3
from gemma_bench.engines.torch_engine import TorchEngine

a = cli.build_parser().parse_args(["--weights", "random", "--model-size", "4b", "--kv-cache", "static",
                                   "--warm-batch-sizes", "1", "--preprocess", "ts", "--seed", "0"])
engine = TorchEngine(a, None)
ready = engine.load()
pixels = np.random.default_rng(7).uniform(-1, 1, size=(4, 3, 896, 896)).astype("<f4")  # one image, 3 crops


def request(rid):
    fd, path = tempfile.mkstemp(suffix=".f32")
    with os.fdopen(fd, "wb") as f:
        f.write(pixels.tobytes())
    return {"id": rid, "maxNewTokens": 16, "inputIds": gemma3.synthetic_input_ids(3),
            "pixels": {"path": path, "shape": list(pixels.shape), "dtype": "float32"}}


tokens, notes = [], list(ready["notes"])
for i in range(2):
    res, broken = batch.handle_batch(engine, {"batchId": i, "requests": [request(i)]}, "ts")
    r = res["results"][0]
    if not r["ok"] or broken:
        print(f"batch {i} failed: {r['error']}")
        sys.exit(1)
    tokens.append(r["tokenIds"])
    notes += res["notes"]
fallback = engine.caches.static_fallback or any("could not build a StaticCache" in n for n in notes)
print(json.dumps({"compile": ready["compile"], "compileS": ready["timings"]["compileS"], "notes": notes,
                  "tokens": tokens}))
same = tokens[0] == tokens[1]
print(f"tokens {'identical' if same else 'DIFFER'} over 2 batches, static cache {'FELL BACK' if fallback else 'reused'}, "
      f"compile {ready['compile']}")
sys.exit(0 if same and not fallback else 1)
PYEOF
}
run_check 3 "static KV cache reuse (4B random weights)" 180 check_static_cache

# 4 ------------------------------------------------------------------------------------------------------------
check_27b_self_test() {
  "$PY" python/gemma_bench_worker.py --weights random --model-size 27b --self-test --self-test-crops 3 --max-new-tokens 32 || return 1
  "$PY" - "$LOGS/4.log" "$TTFT_MAX_MS" "$ITL_MAX_MS" <<'PYEOF'
import json, sys
log, ttft_max, itl_max = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
summary = None
for line in open(log):
    if line.startswith('{"type": "self-test"') or line.startswith('{"type":"self-test"'):
        summary = json.loads(line)
if not summary or not summary.get("ok"):
    print("no self-test summary")
    sys.exit(1)
p = summary["passes"][-1]  # the warm pass
ok = p["ttftMs"] <= ttft_max and p["itlP50Ms"] <= itl_max
print(f"warm pass: {p['promptTokens']} prompt tokens, {p['crops']} crops: TTFT {p['ttftMs']:.1f} ms (<= {ttft_max:.0f}), "
      f"ITL p50 {p['itlP50Ms']:.1f} ms (<= {itl_max:.0f}), vision {p['visionMs']:.1f} ms")
sys.exit(0 if ok else 1)
PYEOF
}
run_check 4 "27B random-weight self-test" 180 check_27b_self_test

# 5 ------------------------------------------------------------------------------------------------------------
check_node_e2e() {
  "$NODE" "$CLI" run --backend transformers --weights random --model-size 4b --gpus-per-replica 1 --replicas 1 \
    --synthetic 3 --requests 6 --warmup 1 --batch-size 1 --max-new-tokens 16 --json >"$LOGS/5.ndjson" || { tail -n 20 "$LOGS/5.ndjson"; return 1; }
  "$NODE" --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const ev = readFileSync('$LOGS/5.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const fin = ev.find((e) => e.type === 'run-finished');
    const smi = ev.filter((e) => e.type === 'telemetry' && e.sample.source === 'nvidia-smi');
    const ready = ev.filter((e) => e.type === 'replica-ready');
    const run = fin && fin.file ? JSON.parse(readFileSync(fin.file, 'utf8')) : null;
    const ok = run ? run.requests.filter((r) => r.status === 'ok' && !r.warmup) : [];
    const rl = run?.summary.roofline;
    const peak = run?.summary.perReplica[0]?.peakMemory;
    console.log(JSON.stringify({ status: fin?.status, notes: fin?.notes, roofline: rl, peakMemory: peak }));
    const good = fin?.status === 'completed' && smi.length > 0 && ready[0]?.gpuIndices.length === 1 && ok.length === 6 && ok.every((r) => r.peakMemory?.length === 1) && rl && rl.unknown === null;
    console.log((good ? '' : 'NOT OK: ') + ok.length + '/6 completed, ' + smi.length + ' nvidia-smi samples, replica on GPU ' + (ready[0]?.gpuIndices ?? []).join(',') + ', peak ' + (peak?.[0] ? (peak[0].allocatedMiB / 1024).toFixed(1) + ' GiB' : 'none') + ', roofline ' + (rl ? (rl.unknown ?? 'TTFT ' + rl.ttftPctOfFloor?.toFixed(1) + '% / TPOT ' + rl.tpotPctOfFloor?.toFixed(1) + '% of the floor on ' + rl.peak.entry) : 'none'));
    process.exit(good ? 0 : 1);
  "
}
run_check 5 "Node -> worker end to end" 150 check_node_e2e

# 6 ------------------------------------------------------------------------------------------------------------
check_ep_cuda() {
  local has
  has=$("$NODE" --input-type=module -e "import { onnxProviders } from '$ROOT/dist/src/engine/backends/onnx/providers.js'; console.log(onnxProviders().providers.includes('cuda') ? 'yes' : 'no')")
  if [ "$has" != yes ]; then
    "$NODE" "$CLI" run --ep cuda --synthetic 2 --requests 2 --max-new-tokens 4 --no-telemetry
    local rc=$?
    [ $rc -eq 2 ] || { echo "without the CUDA execution provider --ep cuda should exit 2, not $rc"; return 1; }
    echo "the CUDA execution provider is not installed (its refusal exits 2 as it should); install it in the checkout with: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js"
    return 77
  fi
  "$NODE" "$CLI" run --ep cuda --gpus-per-replica 1 --replicas 1 --synthetic 3 --requests 6 --max-new-tokens 16 --json >"$LOGS/6.ndjson" || { tail -n 20 "$LOGS/6.ndjson"; return 1; }
  "$NODE" --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const ev = readFileSync('$LOGS/6.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const fin = ev.find((e) => e.type === 'run-finished');
    const smi = ev.filter((e) => e.type === 'telemetry' && e.sample.source === 'nvidia-smi').length;
    const ready = ev.find((e) => e.type === 'replica-ready');
    const good = fin?.status === 'completed' && smi > 0 && ready?.gpuIndices.length === 1;
    console.log((good ? '' : 'NOT OK: ') + 'status ' + fin?.status + ', ' + fin?.summary.completed + ' completed, TTFT p50 ' + fin?.summary.metrics.ttftMs.p50?.toFixed(1) + ' ms, ' + smi + ' nvidia-smi samples, replica on GPU ' + ready?.gpuIndices.join(','));
    process.exit(good ? 0 : 1);
  "
}
run_check 6 "--ep cuda" 90 check_ep_cuda

# 7 ------------------------------------------------------------------------------------------------------------
check_verify_tiny() {
  if ! "$PY" -c 'import onnxruntime, safetensors' 2>/dev/null; then
    echo "needs onnxruntime and safetensors in $PY: $PY -m pip install onnxruntime safetensors"
    return 77
  fi
  "$NODE" "$CLI" make-model --hf-weights --out "$LOGS/tiny" || return 1
  "$PY" python/verify_tiny_model.py --model-dir "$LOGS/tiny" --device cuda
}
run_check 7 "verify_tiny_model.py (onnxruntime vs transformers)" 120 check_verify_tiny

echo "gpu-smoke: $PASSED passed, $FAILED failed, $SKIPPED skipped in $(elapsed) s (logs: $LOGS)"
[ "$FAILED" -eq 0 ]

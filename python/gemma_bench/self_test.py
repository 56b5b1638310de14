"""--self-test (a GPU machine without Node): load and warm the model, then run one synthetic request (a micro-batch
of --self-test-batch copies, --self-test-crops crops each) twice through the same batch path the protocol uses, and
print the device map, GPU memory, times and per-pass TTFT / ITL / decode rate for a person; the last stdout line is
the same as JSON."""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any, Dict, List, Optional

from .batch import handle_batch
from .engines.base import Engine
from .gemma3 import IMAGE_SIZE_PX, synthetic_input_ids
from .protocol import ProtocolOut
from .util import percentile


def say(s: str) -> None:
    print(s, flush=True)


def self_test(engine: Engine, out: ProtocolOut, a: argparse.Namespace) -> int:
    """One synthetic request (or micro-batch) through the same batch path the protocol uses, printed readably."""
    import numpy as np

    ready = engine.load()
    print_ready(ready, a)
    rng = np.random.default_rng(a.seed)
    summaries = []
    for attempt in ("first", "second"):
        reqs = self_test_requests(a, rng)
        result, _ = handle_batch(engine, {"type": "batch", "batchId": 0, "requests": reqs}, a.preprocess)
        r = result["results"][0]
        if not r["ok"]:
            say(f"self-test FAILED: {r['error']}")
            out.send({"type": "self-test", "ok": False, "error": r["error"]})
            return 1
        s = pass_summary(attempt, a, r, result["notes"], result.get("peakMemory"))
        summaries.append(s)
        print_pass(s)
    out.send({"type": "self-test", "ok": True, "ready": ready, "passes": summaries})
    return 0


def print_ready(ready: Dict[str, Any], a: argparse.Namespace) -> None:
    say(f"model: {ready['model']['name']}  {ready['model']['parameters'] / 1e9:.3f} B parameters  dtype {a.dtype}  "
        f"attention {ready['model']['attention']}  kv cache {a.kv_cache}")
    for d in ready["deviceMap"]:
        say(f"  {d['device']} (GPU {d['gpu']}): {', '.join(d['modules'])}")
    for g in ready["gpus"]:
        say(f"  cuda:{g['ordinal']} {g['name']}: {g['allocatedMiB']} MiB allocated, {g['reservedMiB']} MiB reserved "
            f"of {g['totalMiB']} MiB")
    t = ready["timings"]
    say(f"versions: {json.dumps(ready['versions'])}")
    compile_s = "n/a" if t["compileS"] is None else f"{t['compileS']:.1f} s"
    say(f"import {t['importS']:.1f} s, load {t['loadS']:.1f} s, warm-up {t['warmupS']:.1f} s, compile {compile_s}")
    for n in ready["notes"]:
        say(f"note: {n}")


def self_test_requests(a: argparse.Namespace, rng: Any) -> List[Dict[str, Any]]:
    """--self-test-batch protocol requests: random pixels in a file (ts) or a synthetic page (hf)."""
    k = a.self_test_crops
    reqs = []
    for i in range(a.self_test_batch):
        if a.preprocess == "ts":
            px = rng.uniform(-1, 1, size=(1 + k, 3, IMAGE_SIZE_PX, IMAGE_SIZE_PX)).astype("<f4")
            fd, path = tempfile.mkstemp(prefix="gemma-bench-selftest-", suffix=".f32", dir=shm_dir())
            with os.fdopen(fd, "wb") as f:
                f.write(px.tobytes())
            reqs.append({"id": i, "maxNewTokens": a.max_new_tokens, "inputIds": synthetic_input_ids(k),
                         "pixels": {"path": path, "shape": list(px.shape), "dtype": "float32"}})
        else:
            reqs.append({"id": i, "maxNewTokens": a.max_new_tokens, "imagePath": synthetic_image_file(k, a.seed),
                         "prompt": "Extract all the text in this document and summarise what it is about.",
                         "panScan": {"minRatioToActivate": 1.2, "maxNumCrops": max(k, 1), "minCropSize": 256}
                         if k > 0 else None, "exifOrientation": "ignore", "pixelLimit": 89478485})
    return reqs


def pass_summary(attempt: str, a: argparse.Namespace, r: Dict[str, Any], notes: List[str],
                 peak_memory: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    tm = r["tokenMs"]
    gaps = [b - x for x, b in zip(tm, tm[1:])]
    return {"attempt": attempt, "batch": a.self_test_batch, "crops": r["crops"], "promptTokens": r["promptTokens"],
            "outputTokens": r["outputTokens"], "preprocessMs": r["preprocessMs"], "visionMs": r["visionMs"],
            "ttftMs": tm[0] if tm else None, "itlMeanMs": sum(gaps) / len(gaps) if gaps else None,
            "itlP50Ms": percentile(gaps, 0.5), "itlP90Ms": percentile(gaps, 0.9), "e2eMs": tm[-1] if tm else None,
            "decodeTokS": (len(gaps) * a.self_test_batch) / ((tm[-1] - tm[0]) / 1000) if len(tm) > 1 else None,
            "peakMemory": peak_memory, "notes": notes}


def print_pass(s: Dict[str, Any]) -> None:
    def f(v: Optional[float]) -> str:
        return "n/a" if v is None else f"{v:.1f}"

    say(f"{s['attempt']} pass: batch {s['batch']}, {s['crops']} crops, {s['promptTokens']} prompt tokens, "
        f"{s['outputTokens']} output tokens | preprocess {f(s['preprocessMs'])} ms, vision {f(s['visionMs'])} ms, "
        f"TTFT {f(s['ttftMs'])} ms, ITL mean {f(s['itlMeanMs'])} / p50 {f(s['itlP50Ms'])} / p90 "
        f"{f(s['itlP90Ms'])} ms, e2e {f(s['e2eMs'])} ms, decode {f(s['decodeTokS'])} tok/s")
    for g in s.get("peakMemory") or []:
        reserved = "n/a" if g.get("reservedMiB") is None else f"{g['reservedMiB'] / 1024:.2f} GiB"
        say(f"  peak memory cuda:{g['ordinal']} (GPU {g['gpu']}): {g['allocatedMiB'] / 1024:.2f} GiB allocated, "
            f"{reserved} reserved")
    for n in s["notes"]:
        say(f"  note: {n}")


def shm_dir() -> Optional[str]:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def synthetic_image_file(num_crops: int, seed: int) -> str:
    """A portrait page whose aspect ratio gives num_crops crops under HF's rule (height/width ~ num_crops)."""
    from PIL import Image
    import numpy as np

    w = 896
    h = w * max(1, num_crops) if num_crops > 0 else w
    arr = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    fd, path = tempfile.mkstemp(prefix="gemma-bench-selftest-", suffix=".png")
    os.close(fd)
    Image.fromarray(arr).save(path)
    return path

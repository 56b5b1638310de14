"""One micro-batch, engine-independent: a request's pixels and prompt become a Prepared item (--preprocess ts reads
the float32 file gemma-bench wrote and deletes it), the engine generates, and the results become one `result`
message (with each GPU's peak memory over the batch, where the engine measured it). A bad input fails its own
request; a CUDA OOM fails the batch; any other CUDA error is reported as broken (the caller exits)."""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from .gemma3 import IMAGE_SIZE_PX, check_image_tokens, count_image_tokens
from .util import first_line

if TYPE_CHECKING:
    from .engines.base import Engine


@dataclass
class Prepared:
    """One request ready for the GPU: its pixel entries [1+k, 3, 896, 896] (float32) and its prompt ids."""

    id: Any
    max_new: int
    input_ids: List[int]
    pixel_values: Any  # numpy array or torch tensor, float32 [n, 3, 896, 896]
    entries: int
    preprocess_ms: Optional[float]
    input_ms: float


@dataclass
class GenOut:
    """What an engine's generate() returns for a micro-batch; `notes` end up in the result (or ready) message."""

    token_ids: List[List[int]]
    token_ms: List[float]
    start_ms: float
    vision_ms: Optional[float]
    notes: List[str] = field(default_factory=list)
    # Each GPU's peak memory over the batch (engines/memory.py read_peaks); None where the engine cannot see it.
    peak_memory: Optional[List[Dict[str, Any]]] = None


def load_pixel_file(path: str, shape: Sequence[int]) -> Any:
    """Reads raw little-endian float32 pixel values written by gemma-bench and deletes the file."""
    import numpy as np

    try:
        want = 1
        for d in shape:
            want *= int(d)
        if len(shape) != 4 or list(shape[1:]) != [3, IMAGE_SIZE_PX, IMAGE_SIZE_PX]:
            raise ValueError(f"pixel shape must be [n, 3, {IMAGE_SIZE_PX}, {IMAGE_SIZE_PX}], got {list(shape)}")
        size = os.path.getsize(path)
        if size != want * 4:
            raise ValueError(f"pixel file {path} holds {size} bytes, expected {want * 4} for shape {list(shape)}")
        return np.fromfile(path, dtype="<f4", count=want).reshape([int(d) for d in shape])
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def prepare_ts(req: Dict[str, Any]) -> Prepared:
    """--preprocess ts: pixel values and input_ids come from gemma-bench."""
    t0 = time.perf_counter()
    px = req.get("pixels") or {}
    path, shape = px.get("path"), px.get("shape")
    if not isinstance(path, str) or not isinstance(shape, list):
        raise ValueError("request has no pixels {path, shape}")
    arr = load_pixel_file(path, shape)
    ids = [int(t) for t in req.get("inputIds") or []]
    entries = int(shape[0])
    check_image_tokens(ids, entries)
    return Prepared(id=req.get("id"), max_new=int(req.get("maxNewTokens", 1)), input_ids=ids, pixel_values=arr,
                    entries=entries, preprocess_ms=None, input_ms=(time.perf_counter() - t0) * 1000)


def failed_result(rid: Any, error: str) -> Dict[str, Any]:
    return {"id": rid, "ok": False, "error": error, "crops": 0, "imageTokens": 0, "promptTokens": 0, "outputTokens": 0,
            "tokenIds": [], "preprocessMs": None, "inputMs": None, "visionMs": None, "startMs": None, "tokenMs": []}


def ok_result(p: Prepared, g: GenOut, row: int) -> Dict[str, Any]:
    n = p.max_new
    ids = g.token_ids[row][:n]
    return {
        "id": p.id, "ok": True, "error": None, "crops": p.entries - 1,
        "imageTokens": count_image_tokens(p.input_ids), "promptTokens": len(p.input_ids),
        "outputTokens": len(ids), "tokenIds": ids, "preprocessMs": p.preprocess_ms, "inputMs": p.input_ms,
        "visionMs": g.vision_ms, "startMs": g.start_ms, "tokenMs": g.token_ms[:n],
    }


def prepare_requests(engine: "Engine", reqs: List[Dict[str, Any]], preprocess: str,
                     results: Dict[Any, Dict[str, Any]]) -> List[Prepared]:
    """Each request through engine.prepare; one that fails gets its failed result in `results` now."""
    prepared: List[Prepared] = []
    for req in reqs:
        rid = req.get("id")
        try:
            prepared.append(engine.prepare(req, preprocess))
        except Exception as e:  # a bad input fails its own request only
            results[rid] = failed_result(rid, f"preprocessing failed: {type(e).__name__}: {e}")
        finally:
            # A file of a request that failed before reading must not linger in /dev/shm.
            path = (req.get("pixels") or {}).get("path") if isinstance(req.get("pixels"), dict) else None
            if isinstance(path, str) and os.path.exists(path):
                try:
                    os.unlink(path)
                except OSError:
                    pass
    return prepared


def handle_batch(engine: "Engine", msg: Dict[str, Any], preprocess: str) -> Tuple[Dict[str, Any], bool]:
    """Runs one micro-batch; returns the result message and whether the CUDA context is broken (exit after)."""
    recv_time = time.time()
    p0 = time.perf_counter()
    reqs: List[Dict[str, Any]] = [r for r in (msg.get("requests") or []) if isinstance(r, dict)]
    results: Dict[Any, Dict[str, Any]] = {}
    prepared = prepare_requests(engine, reqs, preprocess, results)
    batch_error: Optional[str] = None
    oom = False
    broken = False
    notes: List[str] = []
    peak_memory: Optional[List[Dict[str, Any]]] = None
    if prepared:
        max_new = max(p.max_new for p in prepared)
        try:
            g = engine.generate(prepared, max_new, p0)
            notes += g.notes
            peak_memory = g.peak_memory
            for i, p in enumerate(prepared):
                results[p.id] = ok_result(p, g, i)
        except Exception as e:
            if engine.is_oom(e):
                oom = True
                batch_error = f"CUDA out of memory: {first_line(str(e))}"
                engine.after_oom()
            else:
                batch_error = f"inference failed: {type(e).__name__}: {first_line(str(e))}"
                broken = engine.is_context_broken(e)
                traceback.print_exc(file=sys.stderr)
            for p in prepared:
                results[p.id] = failed_result(p.id, batch_error)
    out = {
        "type": "result", "batchId": msg.get("batchId"), "recvTime": recv_time,
        "results": [results.get(r.get("id")) or failed_result(r.get("id"), "no result") for r in reqs],
        "batchError": batch_error, "oom": oom, "notes": notes,
    }
    if peak_memory is not None:
        out["peakMemory"] = peak_memory
    return out, broken

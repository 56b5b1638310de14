"""Warm-up before `ready`, and the torch.compile bookkeeping of the static-cache decode step.

One synthetic image request per warm batch size (vision, prefill, a few decode steps) so cuBLAS/cuDNN set-up and,
with a static cache, torch.compile happen here and not in the first measured request. With a static cache the first
pass compiles and the second measures the same shape warm: compileS is the difference. Every note a warm-up
generate() returns (a cache fallback, a new compiled shape, a token-count mismatch) goes to the ready notes."""
from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..batch import GenOut, Prepared
from ..gemma3 import IMAGE_SIZE_PX, synthetic_input_ids
from ..util import first_line
from .kv_cache import NewShapeNote

WARMUP_NEW_TOKENS = 4

GenerateFn = Callable[[List[Prepared], int, float], GenOut]


class CompileState:
    """Whether transformers compiles the decode step (a static cache); switched off for good if compiling fails."""

    def __init__(self, enabled: bool, generation_config: Any) -> None:
        self.enabled = enabled
        self.generation_config = generation_config

    def disable(self) -> None:
        self.enabled = False
        if hasattr(self.generation_config, "disable_compile"):
            self.generation_config.disable_compile = True


def warm_item() -> Prepared:
    """The warm-up request: one image (no crops) of zeros with the processor's prompt layout."""
    import numpy as np

    ids = synthetic_input_ids(0)
    px = np.zeros((1, 3, IMAGE_SIZE_PX, IMAGE_SIZE_PX), dtype=np.float32)
    return Prepared(id=0, max_new=WARMUP_NEW_TOKENS, input_ids=ids, pixel_values=px, entries=1,
                    preprocess_ms=None, input_ms=0.0)


def dynamo_graph_count() -> Optional[int]:
    """Graphs torch.compile has built so far in this process (None where the counter is not available)."""
    try:
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])
    except Exception:
        return None


def warm_up(generate: GenerateFn, sizes: Sequence[int], compile: CompileState, is_oom: Callable[[BaseException], bool],
            item: Callable[[], Prepared] = warm_item,
            graph_count: Callable[[], Optional[int]] = dynamo_graph_count) -> Dict[str, Any]:
    """Warms each batch size; returns {"warmupS", "compileS", "compile" (protocol.ts CompileInfo), "notes"}."""
    return _WarmUp(generate, compile, is_oom, item).run_all(sizes or [1], graph_count)


class _WarmUp:
    def __init__(self, generate: GenerateFn, compile: CompileState, is_oom: Callable[[BaseException], bool],
                 item: Callable[[], Prepared]) -> None:
        self.generate = generate
        self.compile = compile
        self.is_oom = is_oom
        self.item = item
        self.notes: List[str] = []
        self.info: Dict[str, Any] = {"enabled": compile.enabled, "ok": None, "error": None}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def run(self, b: int) -> float:
        """One warm-up generate() of batch b, in seconds; its notes join the ready notes."""
        s = time.perf_counter()
        g = self.generate([self.item() for _ in range(b)], WARMUP_NEW_TOKENS, time.perf_counter())
        for n in g.notes:
            if not isinstance(n, NewShapeNote):  # making these shapes is what warming up is for
                self.note(f"warm-up (batch {b}): {n}")
        return time.perf_counter() - s

    def run_compiled(self, b: int) -> Optional[float]:
        """Two passes of batch b, the first compiling: the compile seconds, or None if compiling failed."""
        try:
            first = self.run(b)
            second = self.run(b)
            self.info["ok"] = True
            return max(0.0, first - second)
        except Exception as e:
            if self.is_oom(e):
                raise
            # Compilation of a sharded model can fail (accelerate hooks, graph breaks): measure uncompiled.
            self.info.update(ok=False, error=f"{type(e).__name__}: {first_line(str(e), 300)}")
            self.note(f"torch.compile of the static-cache decode step failed, continuing without it: "
                      f"{self.info['error']}")
            traceback.print_exc(file=sys.stderr)
            self.compile.disable()
            self.run(b)
            return None

    def run_all(self, sizes: Sequence[int], graph_count: Callable[[], Optional[int]]) -> Dict[str, Any]:
        graphs_before = graph_count()
        t0 = time.perf_counter()
        compile_s: Optional[float] = None
        for b in sizes:
            if self.compile.enabled:
                spent = self.run_compiled(b)
                if spent is not None:
                    compile_s = (compile_s or 0.0) + spent
            else:
                self.run(b)
        if self.compile.enabled and self.info["ok"]:
            # generate() compiles only when its auto-compile criteria hold: check that dynamo really built graphs.
            graphs_after = graph_count()
            detected = None if graphs_before is None or graphs_after is None else graphs_after > graphs_before
            self.info["detected"] = detected
            if detected is False:
                self.info.update(ok=False, error="transformers did not compile the decode step (its auto-compile "
                                 "criteria were not met); the static cache runs eagerly")
                self.note(self.info["error"])
                compile_s = None
        return {"warmupS": time.perf_counter() - t0, "compileS": compile_s, "compile": self.info, "notes": self.notes}

"""FakeEngine (`--engine fake`, hidden): no model, honours the protocol so the Node tests and test/python drive the
real worker script without torch. Test seams: --fake-token-ms, --fake-load-ms, --fake-oom-batches, --fake-exit-batch,
--fake-peak-mib (each visible "GPU" reports that peak, plus 1 MiB per image entry of the batch).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, List, Optional

from ..batch import GenOut, Prepared, prepare_ts
from ..device_map import physical_gpus, summarize_device_map
from ..gemma3 import count_image_tokens
from ..util import parse_int_list
from .base import Engine


class FakeOutOfMemoryError(RuntimeError):
    pass


class FakeEngine(Engine):
    """No model: honours the protocol so tests can drive this script without torch (--preprocess ts only).
    Its "tokens" are diagnostics: [entries, prompt tokens, image tokens, 8-bit value of the first pixel, 0...]."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.batches = 0
        self.oom_batches = set(parse_int_list(a.fake_oom_batches)) if a.fake_oom_batches else set()

    def load(self) -> Dict[str, Any]:
        t0 = time.perf_counter()
        import numpy  # noqa: F401  (imported now, as torch would be, not inside the first batch)

        time.sleep(self.a.fake_load_ms / 1000)
        return {
            "model": {"name": "fake", "source": "fake", "modelSize": self.a.model_size, "parameters": 0,
                      "dtype": self.a.dtype, "attention": self.a.attention, "kvCache": self.a.kv_cache,
                      "preprocess": self.a.preprocess, "randomWeights": True, "processorClass": None,
                      "imageProcessorClass": None},
            "deviceMap": summarize_device_map({"": 0}, physical_gpus()),
            "gpus": [], "offloaded": False,
            "versions": {"python": sys.version.split()[0], "torch": None, "transformers": None, "accelerate": None,
                         "cuda": None, "flashAttn": None},
            "timings": {"importS": 0.0, "loadS": time.perf_counter() - t0, "warmupS": 0.0, "compileS": None},
            "compile": {"enabled": False, "ok": None, "error": None},
            "notes": ["fake engine: no model is loaded (tests only)"],
        }

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        if preprocess != "ts":
            raise ValueError("the fake engine supports --preprocess ts only")
        return prepare_ts(req)

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        self.batches += 1
        if self.a.fake_exit_batch and self.batches >= self.a.fake_exit_batch:
            sys.stderr.write("RuntimeError: fake worker: simulated crash in the middle of a batch\n")
            sys.stderr.write("fake worker: exiting with status 1\n")
            sys.stderr.flush()
            os._exit(1)
        if self.batches in self.oom_batches:
            raise FakeOutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
                                       "of 79.19 GiB of which 1.06 GiB is free. (simulated by the fake engine)")
        start_ms = (time.perf_counter() - p0) * 1000
        times: List[float] = []
        for _ in range(max_new):
            time.sleep(self.a.fake_token_ms / 1000)
            times.append((time.perf_counter() - p0) * 1000)
        ids: List[List[int]] = []
        for p in items:
            first = p.pixel_values.reshape(-1)[0]
            row = [p.entries, len(p.input_ids), count_image_tokens(p.input_ids), int(round(float(first) * 127.5 + 127.5))]
            ids.append((row + [0] * max_new)[:max_new])
        return GenOut(token_ids=ids, token_ms=times, start_ms=start_ms, vision_ms=0.0, peak_memory=self.peaks(items))

    def peaks(self, items: List[Prepared]) -> Optional[List[Dict[str, Any]]]:
        """--fake-peak-mib: a made-up peak per CUDA_VISIBLE_DEVICES entry, growing with the batch's image entries."""
        if self.a.fake_peak_mib <= 0:
            return None
        entries = sum(p.entries for p in items)
        gpus = physical_gpus() or ["0"]
        return [{"ordinal": i, "gpu": g, "allocatedMiB": self.a.fake_peak_mib + entries,
                 "reservedMiB": self.a.fake_peak_mib * 1.25} for i, g in enumerate(gpus)]

    def is_oom(self, e: BaseException) -> bool:
        return isinstance(e, FakeOutOfMemoryError)

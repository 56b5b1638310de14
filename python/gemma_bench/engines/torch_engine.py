"""TorchEngine: Gemma3ForConditionalGeneration on this process's GPUs, driven through generate() with a timing
streamer. It only wires its collaborators together: torch_runtime (imports and checks), model_loading /
random_weights (the model), kv_cache, generation, warmup and report (the ready message)."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional

from ..batch import GenOut, Prepared, prepare_ts
from ..device_map import physical_gpus
from ..protocol import ProtocolOut
from ..util import parse_int_list
from .base import Engine
from .generation import Generator, VisionTimer
from .hf_preprocess import prepare_hf
from .kv_cache import KVCaches
from .model_loading import LoadedModel, device_map_of, load_model
from .report import ready_body
from .torch_runtime import TorchRuntime, is_context_broken, is_cuda_oom, start_torch
from .warmup import CompileState, warm_up


class TorchEngine(Engine):
    """Gemma3ForConditionalGeneration on this process's GPUs, driven through generate() with a timing streamer."""

    def __init__(self, a: argparse.Namespace, out: Optional[ProtocolOut]) -> None:
        self.a = a
        self.out = out
        # Set by load():
        self.rt: Optional[TorchRuntime] = None
        self.loaded: Optional[LoadedModel] = None
        self.caches: Optional[KVCaches] = None
        self.generator: Optional[Generator] = None

    def info(self, message: str) -> None:
        if self.out is not None:
            self.out.log("info", message)
        else:
            print(message, file=sys.stderr, flush=True)

    def load(self) -> Dict[str, Any]:
        a = self.a
        self.rt = rt = start_torch(a)
        notes: List[str] = list(rt.notes)
        self.loaded = m = load_model(a, rt, self.info)
        device_map = device_map_of(m.model)
        offloaded = any(str(d) in ("cpu", "disk") for d in device_map.values())
        if offloaded:
            notes.append("part of the model is offloaded to CPU or disk: it did not fit this replica's GPUs, and every "
                         "number measured will reflect the offloading; use more GPUs per replica")
        compile_state = CompileState(m.compile_enabled, m.model.generation_config)
        vision = VisionTimer(m.model, rt.sync)
        self.caches = KVCaches(rt.torch, m.model, rt.dtype, a.kv_cache, a.max_cache_len, lambda: compile_state.enabled)
        self.generator = Generator(rt.torch, m.model, rt.dtype, self.caches, vision, rt.sync, physical_gpus())
        warm = warm_up(self.generate, parse_int_list(a.warm_batch_sizes), compile_state, self.is_oom)
        notes += warm.pop("notes")
        return ready_body(a, rt, m, device_map, physical_gpus(), offloaded, warm, notes)

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        if preprocess == "ts":
            return prepare_ts(req)
        return prepare_hf(self.loaded.processor, req)

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        return self.generator.generate(items, max_new, p0)

    def is_oom(self, e: BaseException) -> bool:
        return is_cuda_oom(self.rt.torch if self.rt is not None else None, e)

    def after_oom(self) -> None:
        # Cached static caches may be what filled the memory; drop them with the allocator's free blocks.
        self.caches.clear()

    def is_context_broken(self, e: BaseException) -> bool:
        return is_context_broken(e)

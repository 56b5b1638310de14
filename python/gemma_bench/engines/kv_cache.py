"""KV caches for generate(): a fresh DynamicCache per batch (--kv-cache dynamic), or StaticCaches kept across batches
per (batch size, length bucket) so the compiled decode step sees few distinct shapes (--kv-cache static). If a
StaticCache cannot be built or reused with this transformers version, generate(cache_implementation='static') takes
over for good, and the batch's notes say why."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..device_map import layer_device_map
from ..util import first_line
from .model_loading import first_device, text_config

# Static KV caches are sized in buckets so the compiled decode step sees few distinct shapes.
STATIC_CACHE_BUCKET_TOKENS = 512
STATIC_CACHES_KEPT = 4


def static_bucket(max_cache_len: int, needed: int) -> int:
    """The cache length for `needed` tokens: a multiple of the bucket, and never under --max-cache-len."""
    return max(max_cache_len, int(math.ceil(needed / STATIC_CACHE_BUCKET_TOKENS)) * STATIC_CACHE_BUCKET_TOKENS)



class NewShapeNote(str):
    """A note that a static cache of a new shape was made (so the decode step compiles for it). Expected while
    warming up, which exists to make these; news in a measured batch, whose timings then include compilation."""

class KVCaches:
    """The cache arguments of each generate() call, and the static caches kept between calls (oldest dropped first)."""

    def __init__(self, torch: Any, model: Any, dtype: Any, kind: str, max_cache_len: int,
                 compiling: Callable[[], bool]) -> None:
        self.torch = torch
        self.model = model
        self.dtype = dtype
        self.kind = kind  # "dynamic" or "static"
        self.max_cache_len = max_cache_len
        self.compiling = compiling  # whether transformers compiles the decode step (for the new-shape note)
        self.static_caches: Dict[Tuple[int, int], Any] = {}
        self.static_fallback = False

    def generate_kwargs(self, batch: int, needed: int) -> Tuple[Dict[str, Any], List[str]]:
        """generate() keyword arguments for a batch of `batch` rows needing `needed` cache slots, and notes."""
        kwargs: Dict[str, Any] = {}
        notes: List[str] = []
        if self.kind == "static" and not self.static_fallback:
            try:
                cache, note = self.static(batch, needed)
                kwargs["past_key_values"] = cache
                if note:
                    notes.append(note)
            except Exception as e:  # an API this worker does not know: let transformers build its own static cache
                self.static_fallback = True
                notes.append(f"could not build a StaticCache directly ({type(e).__name__}: {first_line(str(e), 160)}); "
                             f"using generate(cache_implementation='static')")
        if self.kind == "static" and self.static_fallback:
            kwargs["cache_implementation"] = "static"
        elif self.kind == "dynamic":
            kwargs["past_key_values"] = self.dynamic()
        return kwargs, notes

    def static(self, batch: int, needed: int) -> Tuple[Any, Optional[str]]:
        """A StaticCache for (batch, bucket) kept across batches, so each shape is compiled once; the note says when
        a new one was made (and so compiled for)."""
        bucket = static_bucket(self.max_cache_len, needed)
        key = (batch, bucket)
        cache = self.static_caches.get(key)
        if cache is not None:
            self.static_caches[key] = self.static_caches.pop(key)  # most recently used last
            # transformers v5 allocates a StaticCache's tensors lazily, on its first update: inside generate()'s
            # inference mode, so they are inference tensors, and torch refuses in-place updates (reset's zero_) to
            # those outside inference mode. Resetting in inference mode works for them and for eagerly allocated ones.
            with self.torch.inference_mode():
                cache.reset()
            return cache, None
        while len(self.static_caches) >= STATIC_CACHES_KEPT:
            self.static_caches.pop(next(iter(self.static_caches)))
            self.torch.cuda.empty_cache()
        cfg = text_config(self.model)
        cache = make_static_cache(cfg, batch, bucket, first_device(self.model), self.dtype,
                                  layer_device_map(getattr(self.model, "hf_device_map", None) or {}, cfg))
        self.static_caches[key] = cache
        if not self.compiling():
            return cache, None
        return cache, NewShapeNote(f"static KV cache for batch {batch} x {bucket} tokens created: the decode step is "
                                   f"compiled for this shape now, so this batch's timings include compilation")

    def dynamic(self) -> Any:
        return make_dynamic_cache(text_config(self.model))

    def clear(self) -> None:
        """After a CUDA OOM: kept static caches may be what filled the memory; drop them with the free blocks."""
        self.static_caches.clear()
        self.torch.cuda.empty_cache()


def make_dynamic_cache(config: Any) -> Any:
    import inspect
    from transformers import DynamicCache

    params = inspect.signature(DynamicCache.__init__).parameters
    if "config" in params:
        return DynamicCache(config=config)
    return DynamicCache()


def make_static_cache(config: Any, batch: int, max_len: int, device: Any, dtype: Any, ldm: Optional[Dict[int, Any]]) -> Any:
    """StaticCache across API generations: v5 takes (config, max_cache_len) and sizes itself lazily; 4.5x wants the
    batch size, device, dtype and, for a sharded model, the layer -> device map."""
    import inspect
    from transformers import StaticCache

    params = inspect.signature(StaticCache.__init__).parameters
    kw: Dict[str, Any] = {"config": config, "max_cache_len": max_len}
    for name in ("max_batch_size", "batch_size"):
        if name in params:
            kw[name] = batch
    if "device" in params:
        kw["device"] = device
    if "dtype" in params:
        kw["dtype"] = dtype
    if "layer_device_map" in params and ldm is not None:
        kw["layer_device_map"] = ldm
    return StaticCache(**kw)

"""One micro-batch through model.generate(): left-padded tensors, the KV cache arguments (kv_cache.py), greedy
exactly max_new tokens, a streamer that stamps each token after synchronizing every GPU of the replica, hooks
that time the vision tower + projector (visionMs), and each GPU's peak memory over the batch (memory.py)."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

from ..batch import GenOut, Prepared
from ..gemma3 import IMAGE_TOKEN_ID, left_pad
from .kv_cache import KVCaches
from .memory import read_peaks, reset_peaks
from .model_loading import first_device, vision_modules


def make_token_clock(sync: Callable[[], None], p0: float) -> Any:
    """A generate() streamer that stamps each new token after synchronizing every GPU: ms since p0."""
    try:
        from transformers.generation.streamers import BaseStreamer
    except Exception:  # pragma: no cover - duck typing is enough for generate()
        BaseStreamer = object  # type: ignore[misc,assignment]

    class TokenClock(BaseStreamer):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            self.times: List[float] = []

        def put(self, value: Any) -> None:
            # generate() first puts the prompt ([batch, len]); every later put is one step's tokens ([batch]).
            if getattr(value, "dim", None) is not None and value.dim() > 1:
                return
            sync()
            self.times.append((time.perf_counter() - p0) * 1000)

        def end(self) -> None:
            pass

    return TokenClock()


class VisionTimer:
    """visionMs = vision tower + projector, synchronized on both sides (hooks fire only in the prefill)."""

    def __init__(self, model: Any, sync: Callable[[], None]) -> None:
        vt, pj = vision_modules(model)
        self.device = next(vt.parameters()).device
        self.sync = sync
        self.t0: Optional[float] = None
        self.t1: Optional[float] = None
        vt.register_forward_pre_hook(self._pre)
        pj.register_forward_hook(self._post)

    def _pre(self, _m: Any, _args: Any) -> None:
        if self.t0 is None:
            self.sync()
            self.t0 = time.perf_counter()

    def _post(self, _m: Any, _args: Any, _out: Any) -> None:
        self.sync()
        self.t1 = time.perf_counter()

    def reset(self) -> None:
        self.t0 = self.t1 = None

    def ms(self) -> Optional[float]:
        return (self.t1 - self.t0) * 1000 if self.t0 is not None and self.t1 is not None else None


class Generator:
    """Runs generate() for a list of Prepared items and returns their tokens, token times and notes."""

    def __init__(self, torch: Any, model: Any, dtype: Any, caches: KVCaches, vision: VisionTimer,
                 sync: Callable[[], None], physical: Optional[List[str]] = None) -> None:
        self.torch = torch
        self.physical = list(physical or [])
        self.model = model
        self.dtype = dtype
        self.caches = caches
        self.vision = vision
        self.sync = sync

    def inputs(self, items: List[Prepared], max_new: int) -> Dict[str, Any]:
        """generate()'s tensors and fixed arguments: left-padded ids and mask, image token types, pixel values."""
        torch = self.torch
        ids, mask = left_pad([p.input_ids for p in items])
        dev = first_device(self.model)
        input_ids = torch.tensor(ids, dtype=torch.long, device=dev)
        attention_mask = torch.tensor(mask, dtype=torch.long, device=dev)
        token_type_ids = (input_ids == IMAGE_TOKEN_ID).long()
        pix = [p.pixel_values if torch.is_tensor(p.pixel_values) else torch.from_numpy(p.pixel_values) for p in items]
        pixel_values = torch.cat(pix).to(self.vision.device, dtype=self.dtype)
        return dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                    pixel_values=pixel_values, max_new_tokens=max_new, min_new_tokens=max_new,
                    do_sample=False, num_beams=1)

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        kwargs = self.inputs(items, max_new)
        width = kwargs["input_ids"].shape[1]
        cache_kwargs, notes = self.caches.generate_kwargs(len(items), width + max_new)
        kwargs.update(cache_kwargs)
        clock = make_token_clock(self.sync, p0)
        kwargs["streamer"] = clock
        self.vision.reset()
        self.sync()
        reset_peaks(self.torch)
        start_ms = (time.perf_counter() - p0) * 1000
        with self.torch.inference_mode():
            out = self.model.generate(**kwargs)
        self.sync()
        peaks = read_peaks(self.torch, self.physical)
        token_ids = out[:, width:].tolist()
        times = clock.times[-max_new:]
        if len(times) != max_new or any(len(r) != max_new for r in token_ids):
            notes.append(f"generate produced {len(token_ids[0]) if token_ids else 0} tokens and {len(times)} time stamps "
                         f"for {max_new} asked")
        return GenOut(token_ids=token_ids, token_ms=times, start_ms=start_ms, vision_ms=self.vision.ms(), notes=notes,
                      peak_memory=peaks)

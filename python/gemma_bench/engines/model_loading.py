"""Getting the model and processor: --weights pretrained (from_pretrained, device_map="auto") or random
(random_weights.py), the Gemma 3 processor for --preprocess hf, the greedy generation config, and small accessors
of the loaded model (text config, first device, attention in use, vision modules)."""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from ..gemma3 import BOS_TOKEN_ID, EOS_TOKEN_IDS, PAD_TOKEN_ID
from ..protocol import EXIT_LOAD_FAILED, WorkerFatal
from ..util import first_line
from .torch_runtime import TorchRuntime

# Dynamo recompiles once per (batch, cache length); the default limit (8) would silently fall back to eager.
DYNAMO_CACHE_SIZE_LIMIT = 64


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    name: str
    source: str  # "random", "local" or "hub"
    load_s: float
    compile_enabled: bool  # a static cache: transformers compiles the decode step


def load_model(a: argparse.Namespace, rt: TorchRuntime, info: Callable[[str], None]) -> LoadedModel:
    """The model in eval mode with its generation config set, and the processor for --preprocess hf (timed)."""
    t_load = time.perf_counter()
    if a.weights == "random":
        from .random_weights import build_random_model

        model = build_random_model(a, rt, info)
        name = f"gemma-3-{a.model_size} (random weights)"
        source = "random"
    else:
        model = load_pretrained_model(a, rt, info)
        name = a.model
        source = "local" if os.path.isdir(a.model) else "hub"
    model.eval()
    compile_enabled = configure_generation(model, a.kv_cache)
    processor = load_processor(a) if a.preprocess == "hf" else None
    return LoadedModel(model=model, processor=processor, name=name, source=source,
                       load_s=time.perf_counter() - t_load, compile_enabled=compile_enabled)


def load_pretrained_model(a: argparse.Namespace, rt: TorchRuntime, info: Callable[[str], None]) -> Any:
    from transformers import Gemma3ForConditionalGeneration

    dtype_kw = "dtype" if rt.transformers_version >= (4, 56) else "torch_dtype"  # renamed in 4.56
    info(f"loading {a.model} ({a.dtype}, {a.attention}, device_map=auto over "
         f"{rt.torch.cuda.device_count()} GPU(s))")
    try:
        return Gemma3ForConditionalGeneration.from_pretrained(
            a.model, device_map="auto", attn_implementation=a.attention, **{dtype_kw: rt.dtype})
    except (OSError, ValueError) as e:
        raise WorkerFatal("load-failed", f"could not load {a.model}: {first_line(str(e))}. For a gated Hub "
                          f"model accept its licence and log in (huggingface-cli login); or run without weights: "
                          f"--weights random --model-size 27b", EXIT_LOAD_FAILED) from e


def load_processor(a: argparse.Namespace) -> Any:
    from transformers import AutoProcessor

    src = a.processor or a.model
    try:
        return AutoProcessor.from_pretrained(src)
    except (OSError, ValueError) as e:
        raise WorkerFatal("load-failed", f"could not load the Gemma 3 processor from {src}: {first_line(str(e))}. "
                          f"Use --preprocess ts (no processor needed) or --processor DIR", EXIT_LOAD_FAILED) from e


def configure_generation(model: Any, kv_cache: str) -> bool:
    """Greedy, no sampling knobs left over from the checkpoint's generation_config (Gemma's sets top_k/top_p).
    Returns whether the decode step will be compiled (a static cache)."""
    gc = model.generation_config
    gc.do_sample = False
    gc.num_beams = 1
    for k in ("temperature", "top_p", "top_k"):
        if hasattr(gc, k):
            setattr(gc, k, None)
    gc.pad_token_id = PAD_TOKEN_ID
    gc.bos_token_id = BOS_TOKEN_ID
    gc.eos_token_id = list(EOS_TOKEN_IDS)
    if getattr(gc, "cache_implementation", None) is not None:
        gc.cache_implementation = None  # we always pass the cache ourselves
    if kv_cache == "static":
        try:
            import torch._dynamo

            torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, DYNAMO_CACHE_SIZE_LIMIT)
        except Exception:
            pass
        return True
    if hasattr(gc, "disable_compile"):
        gc.disable_compile = True
    return False


def text_config(model: Any) -> Any:
    cfg = model.config
    try:
        return cfg.get_text_config(decoder=True)
    except TypeError:
        return cfg.get_text_config()


def attention_in_use(model: Any, asked: str) -> str:
    return str(getattr(model.config, "_attn_implementation", None) or asked)


def first_device(model: Any) -> Any:
    return next(model.parameters()).device


def device_map_of(model: Any) -> Dict[str, Any]:
    """The model's hf_device_map, or everything on its first device when it has none."""
    return getattr(model, "hf_device_map", None) or {"": first_device(model).index or 0}


def vision_modules(model: Any) -> Tuple[Any, Any]:
    inner = getattr(model, "model", model)
    vt = getattr(inner, "vision_tower", None) or getattr(model, "vision_tower", None)
    pj = getattr(inner, "multi_modal_projector", None) or getattr(model, "multi_modal_projector", None)
    if vt is None or pj is None:
        raise WorkerFatal("load-failed", "this model has no vision_tower / multi_modal_projector: is it a Gemma 3 "
                          "vision model (not gemma-3-1b)?", EXIT_LOAD_FAILED)
    return vt, pj


def processor_classes(processor: Optional[Any]) -> Tuple[Optional[str], Optional[str]]:
    if processor is None:
        return None, None
    return type(processor).__name__, type(getattr(processor, "image_processor", None)).__name__

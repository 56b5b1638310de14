"""The torch engine's ready message body (protocol.ts ReadyMessage less type/protocol/replica/pid/time): the model,
where its parts sit, each GPU's memory after warm-up, package versions, timings, compile outcome and notes."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional, Sequence

from ..deps import package_available
from ..device_map import summarize_device_map
from ..util import first_line
from .model_loading import LoadedModel, attention_in_use, processor_classes, text_config
from .torch_runtime import TorchRuntime


def gpu_memory(torch: Any, physical: Sequence[str]) -> List[Dict[str, Any]]:
    """Each visible GPU: name, total, and what this process has allocated and reserved on it (MiB)."""
    gpus = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        gpus.append({"ordinal": i, "gpu": physical[i] if i < len(physical) else None, "name": props.name,
                     "totalMiB": round(props.total_memory / 2**20),
                     "allocatedMiB": round(torch.cuda.memory_allocated(i) / 2**20),
                     "reservedMiB": round(torch.cuda.memory_reserved(i) / 2**20)})
    return gpus


def flash_attn_version() -> Optional[str]:
    if not package_available("flash_attn"):
        return None
    try:
        import flash_attn  # noqa: F401

        return getattr(flash_attn, "__version__", "installed")
    except Exception as e:  # a broken flash-attn build is worth saying, not fatal unless asked for
        return f"broken: {first_line(str(e), 120)}"


def model_info(a: argparse.Namespace, m: LoadedModel) -> Dict[str, Any]:
    processor_class, image_processor_class = processor_classes(m.processor)
    return {"name": m.name, "source": m.source, "modelSize": a.model_size,
            "parameters": sum(p.numel() for p in m.model.parameters()),
            "dtype": a.dtype, "attention": attention_in_use(m.model, a.attention), "kvCache": a.kv_cache,
            "preprocess": a.preprocess, "randomWeights": a.weights == "random",
            "numLayers": getattr(text_config(m.model), "num_hidden_layers", None),
            "processorClass": processor_class, "imageProcessorClass": image_processor_class}


def ready_body(a: argparse.Namespace, rt: TorchRuntime, m: LoadedModel, device_map: Dict[str, Any],
               physical: Sequence[str], offloaded: bool, warm: Dict[str, Any], notes: List[str]) -> Dict[str, Any]:
    """The ready message body; call it after warm-up so the GPU memory includes the warm caches and activations."""
    torch = rt.torch
    fa = flash_attn_version()
    return {
        "model": model_info(a, m),
        "deviceMap": summarize_device_map(device_map, physical),
        "gpus": gpu_memory(torch, physical), "offloaded": offloaded,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": rt.transformers.__version__, "accelerate": rt.accelerate.__version__,
                     "cuda": torch.version.cuda, "flashAttn": fa},
        "timings": {"importS": rt.import_s, "loadS": m.load_s, "warmupS": warm["warmupS"], "compileS": warm["compileS"]},
        "compile": warm["compile"],
        "notes": notes,
    }

"""--weights random: the published Gemma 3 architecture (gemma3.py) built on the meta device (no memory at all),
placed by accelerate's planner over the replica's free GPU memory, and each parameter created directly on its GPU and
filled there (norms at identity, biases 0, the rest N(0, 0.02), seeded). A 27B model in bf16 therefore needs its
~55 GB once, in GPU memory, and no host RAM; if it does not fit, the worker says how much it needs and has."""
from __future__ import annotations

import argparse
from typing import Any, Callable, Dict

from ..device_map import device_for
from ..gemma3 import RANDOM_INIT_STD, gemma3_config_dict
from ..protocol import EXIT_LOAD_FAILED, WorkerFatal
from .torch_runtime import TorchRuntime

# Leave room for activations when planning where random-weight layers go (from_pretrained keeps ~10% too).
DEVICE_MEMORY_FRACTION = 0.85


def build_random_model(a: argparse.Namespace, rt: TorchRuntime, info: Callable[[str], None]) -> Any:
    """The published architecture with random weights, built on the meta device (no CPU copy at all) and then
    materialized layer by layer directly on the GPU that accelerate's planner gives it, so a 27B model needs its
    ~55 GB once, in GPU memory, and no host RAM. Norms start at identity, biases at 0, the rest N(0, 0.02)."""
    from accelerate import dispatch_model

    info(f"building gemma-3-{a.model_size} with random weights ({a.dtype}, {a.attention}) "
         f"on {rt.torch.cuda.device_count()} GPU(s)")
    model = meta_model(a, rt)
    device_map = plan_device_map(a, rt, model)
    rt.torch.manual_seed(a.seed)  # seeds every device's generator: same weights for the same device map
    materialize_random_(model, device_map, rt.torch)
    model = dispatch_model(model, device_map=device_map)
    model.hf_device_map = dict(device_map)
    return model


def meta_model(a: argparse.Namespace, rt: TorchRuntime) -> Any:
    """Gemma3ForConditionalGeneration for --model-size with every parameter on the meta device, in the target dtype."""
    from accelerate import init_empty_weights
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    torch, dtype = rt.torch, rt.dtype
    config = Gemma3Config.from_dict(gemma3_config_dict(a.model_size))
    # The target dtype three ways, since versions differ in which one _from_config honours: the config's
    # dtype (v5 name and the 4.x name) and the default dtype around construction. Parameters stay on meta.
    for key in ("dtype", "torch_dtype"):
        try:
            setattr(config, key, dtype)
        except Exception:
            pass
    old_default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with init_empty_weights(include_buffers=False):
            model = Gemma3ForConditionalGeneration._from_config(config, attn_implementation=a.attention)
    finally:
        torch.set_default_dtype(old_default)
    keep_fp32 = list(getattr(model, "_keep_in_fp32_modules", None) or [])
    for pname, param in model.named_parameters():
        if param.dtype.is_floating_point and param.dtype != dtype and not any(k in pname for k in keep_fp32):
            param.data = param.data.to(dtype)  # still meta: costs nothing
    model.tie_weights()
    return model


def plan_device_map(a: argparse.Namespace, rt: TorchRuntime, model: Any) -> Dict[str, Any]:
    """accelerate's balanced plan over DEVICE_MEMORY_FRACTION of each GPU's free memory; a fatal if it would offload."""
    from accelerate import infer_auto_device_map
    from accelerate.utils import get_balanced_memory

    torch, dtype = rt.torch, rt.dtype
    n = torch.cuda.device_count()
    no_split = list(getattr(model, "_no_split_modules", None) or [])
    max_memory: Dict[Any, int] = {i: int(torch.cuda.mem_get_info(i)[0] * DEVICE_MEMORY_FRACTION) for i in range(n)}
    if n > 1:
        max_memory = get_balanced_memory(model, max_memory=max_memory, no_split_module_classes=no_split, dtype=dtype)
    device_map = infer_auto_device_map(model, max_memory=max_memory, no_split_module_classes=no_split, dtype=dtype)
    if any(str(d) in ("cpu", "disk") for d in device_map.values()):
        need_gb = sum(p.numel() for p in model.parameters()) * torch.finfo(dtype).bits / 8 / 1e9
        free_gb = sum(torch.cuda.mem_get_info(i)[0] for i in range(n)) / 1e9
        raise WorkerFatal("load-failed", f"gemma-3-{a.model_size} in {a.dtype} needs about {need_gb:.0f} GB "
                          f"of weights, but the {n} GPU(s) of this replica have {free_gb:.0f} GB free: use more GPUs "
                          f"per replica (--gpus-per-replica) or a smaller --model-size", EXIT_LOAD_FAILED)
    return device_map


def materialize_random_(model: Any, device_map: Dict[str, Any], torch: Any) -> None:
    """Every meta parameter created on its planned device and filled there; buffers moved; lm_head tied again."""
    from accelerate.utils import set_module_tensor_to_device

    for pname, param in list(model.named_parameters()):
        dev = device_for(pname, device_map)
        t = torch.empty(tuple(param.shape), dtype=param.dtype, device=dev)
        init_random_(pname, t)
        set_module_tensor_to_device(model, pname, dev, value=t)
    for bname, buf in list(model.named_buffers()):
        if buf.is_meta:
            raise WorkerFatal("load-failed", f"buffer {bname} was created on the meta device and cannot be "
                              f"materialized with random weights in this transformers version", EXIT_LOAD_FAILED)
        set_module_tensor_to_device(model, bname, device_for(bname, device_map), value=buf)
    model.tie_weights()  # lm_head shares the (now real) embedding again
    lm_head = getattr(model, "lm_head", None)
    if lm_head is not None and lm_head.weight.is_meta:
        lm_head.weight = model.get_input_embeddings().weight


def init_random_(name: str, t: Any) -> None:
    """Random weights that keep activations finite through 62 layers: identity norms, zero biases, N(0, 0.02)."""
    if name.endswith(".bias"):
        t.zero_()
    elif ("vision_tower" in name or "vision_model" in name) and ("layer_norm" in name or "layernorm" in name):
        t.fill_(1.0)  # LayerNorm: y = x_hat * w
    elif "norm" in name:
        t.zero_()  # Gemma RMSNorm: y = x_hat * (1 + w)
    else:
        t.normal_(0.0, RANDOM_INIT_STD)

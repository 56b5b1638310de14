"""Device-map helpers (pure): which part of the model sits on which device, read from an accelerate/transformers
hf_device_map, the physical GPU numbers from CUDA_VISIBLE_DEVICES, and the per-layer device map StaticCache wants."""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)$")


def compress_ranges(nums: Sequence[int]) -> str:
    """[0,1,2,5,7,8] -> "0-2, 5, 7-8"."""
    out: List[str] = []
    s = sorted(set(nums))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        out.append(str(s[i]) if i == j else f"{s[i]}-{s[j]}")
        i = j + 1
    return ", ".join(out)


def module_label(key: str) -> str:
    if "vision_tower" in key or "vision_model" in key:
        return "vision tower"
    if "multi_modal_projector" in key:
        return "projector"
    if key == "":
        return "everything"
    return key.split(".")[-1]


def summarize_device_map(device_map: Dict[str, Any], physical: Sequence[str] = ()) -> List[Dict[str, Any]]:
    """Which parts of the model sit on which device, from an accelerate/transformers hf_device_map, in device order:
    [{"device": "cuda:0", "gpu": "2", "modules": ["vision tower", "projector", "embed_tokens", "layers 0-30"]}, ...].
    `physical` maps CUDA ordinals to the CUDA_VISIBLE_DEVICES entries (nvidia-smi indices)."""
    by_dev: Dict[str, Dict[str, Any]] = {}
    for key, dev in device_map.items():
        name = device_name(dev)
        entry = by_dev.setdefault(name, {"labels": [], "layers": []})
        m = _LAYER_RE.search(key)
        if m and not ("vision_tower" in key or "vision_model" in key):
            entry["layers"].append(int(m.group(1)))
        else:
            label = module_label(key)
            if label not in entry["labels"]:
                entry["labels"].append(label)
    out: List[Dict[str, Any]] = []
    for name in sorted(by_dev, key=device_sort_key):
        e = by_dev[name]
        mods = list(e["labels"])
        if e["layers"]:
            # Decoder layers go before the final norm / lm_head in reading order.
            tail = [x for x in mods if x in ("norm", "lm_head")]
            head = [x for x in mods if x not in ("norm", "lm_head")]
            mods = head + [f"layers {compress_ranges(e['layers'])}"] + tail
        ordinal = int(name.split(":")[1]) if name.startswith("cuda:") else None
        gpu = physical[ordinal] if ordinal is not None and ordinal < len(physical) else None
        out.append({"device": name, "gpu": gpu, "modules": mods})
    return out


def device_name(dev: Any) -> str:
    if isinstance(dev, int):
        return f"cuda:{dev}"
    s = str(dev)
    return f"cuda:{s}" if s.isdigit() else s


def device_sort_key(name: str) -> Tuple[int, int, str]:
    if name.startswith("cuda:"):
        return (0, int(name.split(":")[1]), name)
    return (1, 0, name)


def physical_gpus(env: Optional[Dict[str, str]] = None) -> List[str]:
    """This process's CUDA_VISIBLE_DEVICES entries (nvidia-smi indices under CUDA_DEVICE_ORDER=PCI_BUS_ID)."""
    v = (env if env is not None else os.environ).get("CUDA_VISIBLE_DEVICES")
    if v is None:
        return []
    return [x.strip() for x in v.split(",") if x.strip() != ""]


def device_for(name: str, device_map: Dict[str, Any]) -> Any:
    """The device of a parameter or buffer: the longest device-map key that is a dotted prefix of its name."""
    best, best_len = None, -1
    for key, dev in device_map.items():
        if key == "" or name == key or name.startswith(key + "."):
            if len(key) > best_len:
                best, best_len = dev, len(key)
    if best is None:
        raise KeyError(f"no device for {name}")
    return best


def layer_device_map(device_map: Dict[str, Any], text_config: Any) -> Optional[Dict[int, Any]]:
    """Decoder layer index -> device (what 4.5x StaticCache wants for a sharded model); None where unknown."""
    n = getattr(text_config, "num_hidden_layers", None)
    if not device_map or not n:
        return None
    out: Dict[int, Any] = {}
    for i in range(n):
        for key, dev in device_map.items():
            m = _LAYER_RE.search(key)
            if m and int(m.group(1)) == i and "vision" not in key:
                out[i] = dev
        if i not in out:
            try:
                out[i] = device_for(f"model.language_model.layers.{i}", device_map)
            except KeyError:
                return None
    return out

"""Peak GPU memory per micro-batch (issue 11, bug 4): the caching allocator's peak counters are reset on every device
of the replica before a batch and read after it, so each batch reports what it needed at most: max_memory_allocated
(tensors: weights, KV cache, activations) and max_memory_reserved (what the allocator held from the driver, what
nvidia-smi's memory.used mostly shows). torch is passed in, so this runs against a stand-in where torch is absent."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

MIB = 2 ** 20


def reset_peaks(torch: Any) -> None:
    """Starts a new peak window on every visible device (the peak becomes what is allocated now)."""
    for i in range(torch.cuda.device_count()):
        torch.cuda.reset_peak_memory_stats(i)


def read_peaks(torch: Any, physical: Sequence[str]) -> List[Dict[str, Any]]:
    """Each visible device's peaks since reset_peaks, in MiB (protocol.ts PeakMemory): its CUDA ordinal, the
    CUDA_VISIBLE_DEVICES entry behind it (the nvidia-smi index or UUID), allocated and reserved."""
    out: List[Dict[str, Any]] = []
    for i in range(torch.cuda.device_count()):
        reserved: Optional[float] = None
        if hasattr(torch.cuda, "max_memory_reserved"):
            reserved = round(torch.cuda.max_memory_reserved(i) / MIB, 1)
        out.append({"ordinal": i, "gpu": physical[i] if i < len(physical) else None,
                    "allocatedMiB": round(torch.cuda.max_memory_allocated(i) / MIB, 1), "reservedMiB": reserved})
    return out

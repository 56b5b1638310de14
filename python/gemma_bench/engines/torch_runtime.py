"""The torch side of the process: importing torch, transformers and accelerate (timed), the checks that need them
(transformers new enough, a CUDA GPU, bf16 support), the replica-wide synchronize, and how CUDA errors are told apart
(out of memory: the batch fails, the worker carries on; anything else: the context is broken)."""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Tuple

from ..deps import TRANSFORMERS_MIN, TRANSFORMERS_TESTED_MIN, version_tuple
from ..protocol import EXIT_LOAD_FAILED, EXIT_NO_GPU, WorkerFatal


@dataclass
class TorchRuntime:
    """The imported modules and what was decided from them; `notes` go to the ready message."""

    torch: Any
    transformers: Any
    accelerate: Any
    dtype: Any
    transformers_version: Tuple[int, ...]
    sync: Callable[[], None]
    import_s: float
    notes: List[str] = field(default_factory=list)


def start_torch(a: argparse.Namespace) -> TorchRuntime:
    """Imports torch & co and checks this machine can run what was asked; raises WorkerFatal when it cannot."""
    t_imp = time.perf_counter()
    import torch
    import transformers
    import accelerate

    import_s = time.perf_counter() - t_imp
    tv = version_tuple(transformers.__version__)
    notes = check_transformers(transformers.__version__, tv)
    check_gpu(torch)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[a.dtype]
    notes += check_dtype(torch, a.dtype)
    torch.manual_seed(a.seed)
    return TorchRuntime(torch=torch, transformers=transformers, accelerate=accelerate, dtype=dtype,
                        transformers_version=tv, sync=sync_all_gpus(torch), import_s=import_s, notes=notes)


def sync_all_gpus(torch: Any) -> Callable[[], None]:
    n_dev = torch.cuda.device_count()

    def sync_all() -> None:
        # torch.cuda.synchronize() waits for the current device only; a sharded replica runs on all of them.
        for i in range(n_dev):
            torch.cuda.synchronize(i)

    return sync_all


def check_transformers(version: str, tv: Tuple[int, ...]) -> List[str]:
    if tv < TRANSFORMERS_MIN:
        raise WorkerFatal("load-failed", f"transformers {version} has no Gemma 3 (it arrived in "
                          f"4.50): pip install -U transformers", EXIT_LOAD_FAILED)
    if tv < TRANSFORMERS_TESTED_MIN:
        return [f"transformers {version} is older than 4.56, the oldest API this worker was "
                f"written against; if loading or generation fails: pip install -U transformers"]
    return []


def check_gpu(torch: Any) -> None:
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        raise WorkerFatal("no-gpu", f"torch {torch.__version__} sees no CUDA GPU (torch.version.cuda = "
                          f"{torch.version.cuda}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}). "
                          f"The transformers backend needs CUDA GPUs; a CPU-only torch build needs replacing with a "
                          f"CUDA one (see https://pytorch.org/get-started/locally/)", EXIT_NO_GPU)


def check_dtype(torch: Any, dtype: str) -> List[str]:
    if dtype == "bf16" and not torch.cuda.is_bf16_supported():
        raise WorkerFatal("load-failed", f"{torch.cuda.get_device_name(0)} has no bf16 support: use --dtype fp16 "
                          f"(Gemma 3 may overflow in fp16) or fp32", EXIT_LOAD_FAILED)
    if dtype == "fp16":
        return ["fp16: Gemma 3 was trained in bf16 and its activations can overflow in fp16 (inf/NaN logits); "
                "speed numbers stay valid, outputs may not"]
    return []


def is_cuda_oom(torch: Any, e: BaseException) -> bool:
    oom_cls = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    return (oom_cls is not None and isinstance(e, oom_cls)) or "CUDA out of memory" in str(e)


def is_context_broken(e: BaseException) -> bool:
    s = str(e)
    return ("CUDA error" in s or "device-side assert" in s or "illegal memory access" in s) and "out of memory" not in s

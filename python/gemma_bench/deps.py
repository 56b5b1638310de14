"""The start-up dependency checks: which required packages are importable (importlib find_spec only, nothing heavy
is imported here), the one clear missing-package message with its pip command (exit status 3), and version parsing.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from typing import List, Optional, Sequence, Tuple

from .protocol import EXIT_MISSING_DEPS, WorkerFatal

REQUIRED_PACKAGES: Tuple[str, ...] = ("torch", "transformers", "accelerate")
PIP_INSTALL = "pip install torch transformers accelerate"
FLASH_ATTN_INSTALL = "pip install flash-attn --no-build-isolation"
PILLOW_INSTALL = "pip install pillow"
NUMPY_INSTALL = "pip install numpy"
# Gemma 3 arrived in 4.50; the worker was written against the 4.56+ API (dtype=, layered caches) and v5.
TRANSFORMERS_MIN = (4, 50)
TRANSFORMERS_TESTED_MIN = (4, 56)


def package_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(names: Sequence[str] = REQUIRED_PACKAGES) -> List[str]:
    return [n for n in names if not package_available(n)]


def missing_deps_message(missing: Sequence[str], executable: str) -> str:
    which = ", ".join(missing)
    return (f"the transformers backend needs the Python packages torch, transformers and accelerate; "
            f"missing from {executable}: {which}. Install them with: {PIP_INSTALL} "
            f"(for --attention flash_attention_2 also: {FLASH_ATTN_INSTALL}). "
            f"To use another interpreter, pass --python PATH or set GEMMA_BENCH_PYTHON.")


def dependency_problem(a: argparse.Namespace) -> Optional[WorkerFatal]:
    """The first missing dependency for what was asked, as one fatal; None when everything is importable."""
    missing = missing_packages()
    if missing:
        return WorkerFatal("missing-deps", missing_deps_message(missing, sys.executable), EXIT_MISSING_DEPS)
    if not package_available("numpy"):
        # torch does not require numpy, but the worker reads pixel files and builds its warm-up input with it.
        return WorkerFatal("missing-deps", f"the transformers worker needs numpy, which is not installed in "
                           f"{sys.executable}. Install it with: {NUMPY_INSTALL}", EXIT_MISSING_DEPS)
    if a.attention == "flash_attention_2" and not package_available("flash_attn"):
        return WorkerFatal("missing-deps", f"--attention flash_attention_2 was asked for, but flash-attn is not installed "
                           f"in {sys.executable}. Install it with: {FLASH_ATTN_INSTALL} (needs a CUDA toolchain), "
                           f"or use --attention sdpa (the default)", EXIT_MISSING_DEPS)
    if a.preprocess == "hf" and not package_available("PIL"):
        return WorkerFatal("missing-deps", f"--preprocess hf opens images with Pillow, which is not installed in "
                           f"{sys.executable}. Install it with: {PILLOW_INSTALL}, or use --preprocess ts", EXIT_MISSING_DEPS)
    return None


def version_tuple(v: str) -> Tuple[int, ...]:
    nums = re.findall(r"\d+", v.split("+")[0])[:3]
    return tuple(int(x) for x in nums)

"""--probe: the environment as the TS side's start-up checks and `gemma-bench doctor` need it (protocol.ts
ProbeMessage), one JSON line: every package's version where it is installed, torch's view of CUDA, and the problems
that keep the worker from running (a missing package with its pip command, a broken import, a too-old transformers).
Imports torch (a few seconds) unless the engine is fake or torch is missing."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional

from .deps import TRANSFORMERS_MIN, dependency_problem, package_available, version_tuple
from .protocol import PROTOCOL_VERSION
from .util import first_line


def probe(a: argparse.Namespace) -> Dict[str, Any]:
    """The environment as the TS side's start-up checks need it. Imports torch (a few seconds) unless fake."""
    versions: Dict[str, Optional[str]] = {}
    for name, mod in (("torch", "torch"), ("transformers", "transformers"), ("accelerate", "accelerate"),
                      ("flashAttn", "flash_attn"), ("pillow", "PIL"), ("numpy", "numpy")):
        versions[name] = "installed" if package_available(mod) else None
    cuda: Dict[str, Any] = {"available": False, "deviceCount": 0, "torchCuda": None, "devices": []}
    problems: List[str] = []
    if a.engine != "fake":
        dep = dependency_problem(a)
        if dep is not None:
            problems.append(str(dep))
        if versions["torch"] is not None:
            probe_torch(versions, cuda, problems)
        probe_packages(versions, problems)
    return {"type": "probe", "protocol": PROTOCOL_VERSION, "engine": a.engine,
            "python": {"version": sys.version.split()[0], "executable": sys.executable},
            "packages": versions, "cuda": cuda, "problems": problems}


def probe_torch(versions: Dict[str, Optional[str]], cuda: Dict[str, Any], problems: List[str]) -> None:
    try:
        import torch

        versions["torch"] = torch.__version__
        cuda["torchCuda"] = torch.version.cuda
        cuda["available"] = bool(torch.cuda.is_available())
        n = torch.cuda.device_count() if cuda["available"] else 0
        cuda["deviceCount"] = n
        for i in range(n):
            p = torch.cuda.get_device_properties(i)
            cuda["devices"].append({"name": p.name, "totalMiB": round(p.total_memory / 2**20)})
    except Exception as e:
        problems.append(f"import torch failed: {type(e).__name__}: {first_line(str(e))}")


def probe_packages(versions: Dict[str, Optional[str]], problems: List[str]) -> None:
    for name, mod in (("transformers", "transformers"), ("accelerate", "accelerate")):
        if versions.get(name) is None:
            continue  # missing: dependency_problem said so, with the pip command
        try:
            versions[name] = __import__(mod).__version__
        except Exception as e:
            problems.append(f"import {mod} failed: {type(e).__name__}: {first_line(str(e))}")
    # Versions of the optional ones without importing them (flash-attn's import is slow and can crash).
    for name, dist in (("flashAttn", "flash-attn"), ("pillow", "pillow"), ("numpy", "numpy")):
        if versions.get(name) is not None:
            versions[name] = distribution_version(dist) or versions[name]
    tv = versions.get("transformers")
    if tv and tv != "installed" and version_tuple(tv) < TRANSFORMERS_MIN:
        problems.append(f"transformers {tv} has no Gemma 3 (it arrived in 4.50): pip install -U transformers")


def distribution_version(dist: str) -> Optional[str]:
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(dist)
        except PackageNotFoundError:
            return None
    except Exception:
        return None

#!/usr/bin/env python3
"""gemma-bench transformers worker: one process per replica of a Gemma 3 vision-language model.

This is the entry point gemma-bench (src/engine/backends/transformers/python.ts) and people run by path; the code
is the package next to it, python/gemma_bench/ (its __init__.py has the module map). The worker owns the GPU side
of `--backend transformers` (DESIGN.md §4): it loads Gemma3ForConditionalGeneration over the GPUs of its
CUDA_VISIBLE_DEVICES group (device_map="auto", accelerate), or builds the published 4B/12B/27B architecture with
random weights without downloading anything, and then serves micro-batches over JSON lines on stdio (the message
shapes are documented in src/engine/backends/transformers/protocol.ts, which is the reference). It also owns the
start-up checks that need Python (missing packages, flash-attn, CUDA) and a self-test mode for a GPU machine
without Node:

    python python/gemma_bench_worker.py --weights random --model-size 27b --self-test

Everything before the torch engine loads imports nothing heavy: argument checks and the dependency check run on a
bare interpreter, so a machine without torch gets one clear message instead of a traceback.
"""
from __future__ import annotations

import os
import sys

# Run by path from any working directory (or loaded by file location): the package sits next to this file.
_HERE = os.path.dirname(os.path.abspath(__file__))
if not sys.path or sys.path[0] != _HERE:
    sys.path.insert(0, _HERE)

from gemma_bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

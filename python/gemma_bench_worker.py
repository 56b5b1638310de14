#!/usr/bin/env python3
"""gemma-bench transformers worker: one process per replica of a Gemma 3 vision-language model.

This module owns the GPU side of `--backend transformers` (DESIGN.md §4): it loads Gemma3ForConditionalGeneration
over the GPUs of its CUDA_VISIBLE_DEVICES group (device_map="auto", accelerate), or builds the published 4B/12B/27B
architecture with random weights without downloading anything, and then serves micro-batches over JSON lines on
stdio (the message shapes are documented in src/engine/backends/transformers/protocol.ts, which is the reference).
It also owns the start-up checks that need Python (missing packages, flash-attn, CUDA) and a self-test mode
for a GPU machine without Node:

    python python/gemma_bench_worker.py --weights random --model-size 27b --self-test

Everything before `TorchEngine.load` imports nothing heavy: argument checks and the dependency check run on a
bare interpreter, so a machine without torch gets one clear message instead of a traceback.

stdout carries protocol lines only. At start-up the real stdout file descriptor is kept for the protocol and
fd 1 is pointed at stderr, so a stray print() or a C library writing to stdout can never corrupt the stream.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, IO, List, Optional, Sequence, Tuple

PROTOCOL_VERSION = 1

# Exit codes (the TS side maps them to messages; a fatal message on stdout precedes each non-zero exit).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_MISSING_DEPS = 3
EXIT_LOAD_FAILED = 4
EXIT_NO_GPU = 5
EXIT_CUDA_BROKEN = 6

REQUIRED_PACKAGES: Tuple[str, ...] = ("torch", "transformers", "accelerate")
PIP_INSTALL = "pip install torch transformers accelerate"
FLASH_ATTN_INSTALL = "pip install flash-attn --no-build-isolation"
PILLOW_INSTALL = "pip install pillow"
# Gemma 3 arrived in 4.50; the worker was written against the 4.56+ API (dtype=, layered caches) and v5.
TRANSFORMERS_MIN = (4, 50)
TRANSFORMERS_TESTED_MIN = (4, 56)

# Gemma 3 token ids and shapes (panscan-spec.md §3.1, §4).
PAD_TOKEN_ID = 0
EOS_TOKEN_IDS = (1, 106)  # <eos>, <end_of_turn>
BOS_TOKEN_ID = 2
START_OF_TURN_ID = 105
END_OF_TURN_ID = 106
BOI_TOKEN_ID = 255999
EOI_TOKEN_ID = 256000
IMAGE_TOKEN_ID = 262144
VOCAB_SIZE = 262208
MM_TOKENS_PER_IMAGE = 256
IMAGE_SIZE_PX = 896
NEWLINE2_ID = 108  # "\n\n"
SPACE_ID = 236743  # a lone "▁"

# Static KV caches are sized in buckets so the compiled decode step sees few distinct shapes.
DEFAULT_STATIC_CACHE_TOKENS = 4096
STATIC_CACHE_BUCKET_TOKENS = 512
STATIC_CACHES_KEPT = 4
# Dynamo recompiles once per (batch, cache length); the default limit (8) would silently fall back to eager.
DYNAMO_CACHE_SIZE_LIMIT = 64
WARMUP_NEW_TOKENS = 4
# Leave room for activations when planning where random-weight layers go (from_pretrained keeps ~10% too).
DEVICE_MEMORY_FRACTION = 0.85
RANDOM_INIT_STD = 0.02
STDERR_SNIPPET_CHARS = 400

# The published text configs (panscan-spec.md §4.4; convert_gemma3_weights.py _VARIANTS), 1B excluded (no vision).
MODEL_SIZES: Dict[str, Dict[str, Any]] = {
    "4b": dict(hidden_size=2560, num_hidden_layers=34, num_attention_heads=8, num_key_value_heads=4, head_dim=256,
               intermediate_size=10240, query_pre_attn_scalar=256),
    "12b": dict(hidden_size=3840, num_hidden_layers=48, num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                intermediate_size=15360, query_pre_attn_scalar=256),
    "27b": dict(hidden_size=5376, num_hidden_layers=62, num_attention_heads=32, num_key_value_heads=16, head_dim=128,
                intermediate_size=21504, query_pre_attn_scalar=168),
}
# SigLIP-So400m/14 at 896 px, identical for every size (panscan-spec.md §4.1).
VISION_CONFIG: Dict[str, Any] = dict(
    model_type="siglip_vision_model", hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
    num_attention_heads=16, num_channels=3, image_size=IMAGE_SIZE_PX, patch_size=14, hidden_act="gelu_pytorch_tanh",
    layer_norm_eps=1e-6, attention_dropout=0.0, vision_use_head=False,
)
SLIDING_WINDOW_PATTERN = 6


class WorkerFatal(Exception):
    """A start-up problem the user must fix; carries the protocol code and the exit status."""

    def __init__(self, code: str, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.exit_status = exit_status


# ----------------------------------------------------------------------------------------------------------------
# Arguments and dependency checks (no heavy imports)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gemma_bench_worker.py",
        description="gemma-bench transformers worker (one replica). Normally launched by gemma-bench; "
        "run it by hand with --self-test on a GPU machine.",
    )
    p.add_argument("--model", help="Hugging Face model id or local directory (e.g. google/gemma-3-27b-it)")
    p.add_argument("--weights", choices=["pretrained", "random"], default="pretrained",
                   help="random: the published architecture with random weights, nothing downloaded")
    p.add_argument("--model-size", choices=sorted(MODEL_SIZES), help="architecture for --weights random")
    p.add_argument("--dtype", choices=["bf16", "fp16", "fp32"], default="bf16")
    p.add_argument("--attention", choices=["sdpa", "flash_attention_2", "eager"], default="sdpa")
    p.add_argument("--kv-cache", choices=["dynamic", "static"], default="dynamic",
                   help="static: fixed-size KV cache, decode step compiled with torch.compile")
    p.add_argument("--max-cache-len", type=int, default=DEFAULT_STATIC_CACHE_TOKENS,
                   help=f"static cache length in tokens (default {DEFAULT_STATIC_CACHE_TOKENS}); longer requests get a larger bucket")
    p.add_argument("--preprocess", choices=["hf", "ts"], default="ts",
                   help="hf: HF Gemma3Processor runs here; ts: pixel values and input_ids come from gemma-bench")
    p.add_argument("--processor", help="local processor directory (tokenizer + preprocessor config) for --preprocess hf")
    p.add_argument("--replica", type=int, default=0, help="replica number (for messages)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--probe", action="store_true", help="print the environment (packages, CUDA) as one JSON line and exit")
    p.add_argument("--self-test", action="store_true", help="load, run one synthetic request end to end, print TTFT/ITL")
    p.add_argument("--self-test-crops", type=int, default=3, help="crops of the self-test image (default 3)")
    p.add_argument("--self-test-batch", type=int, default=1, help="micro-batch size of the self-test (default 1)")
    p.add_argument("--max-new-tokens", type=int, default=64, help="tokens generated by the self-test (default 64)")
    p.add_argument("--warm-batch-sizes", default="1",
                   help="comma-separated batch sizes to warm (and, with a static cache, compile) before ready")
    # Test seams: a model-free engine that honours the protocol, so the TS side can drive this very script.
    p.add_argument("--engine", choices=["torch", "fake"], default="torch", help=argparse.SUPPRESS)
    p.add_argument("--fake-token-ms", type=float, default=2.0, help=argparse.SUPPRESS)
    p.add_argument("--fake-load-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--fake-oom-batches", default="", help=argparse.SUPPRESS)
    p.add_argument("--fake-exit-batch", type=int, default=0, help=argparse.SUPPRESS)
    return p


def validate_args(a: argparse.Namespace) -> List[str]:
    """Problems with the arguments, each a full sentence. Checked before any import that could be slow or missing."""
    problems: List[str] = []
    if a.weights == "random":
        if not a.model_size:
            problems.append("--weights random needs --model-size 4b, 12b or 27b (the architecture to build)")
    elif not a.model and not a.probe and a.engine != "fake":
        problems.append("give --model (a Hugging Face id such as google/gemma-3-27b-it, or a local directory), "
                        "or --weights random --model-size 4b|12b|27b to benchmark without downloading weights")
    if a.preprocess == "hf" and a.weights == "random" and not a.processor and a.engine != "fake":
        problems.append("--preprocess hf with --weights random needs a local processor directory (--processor PATH, "
                        "holding tokenizer and preprocessor configs): random weights download nothing. "
                        "Use --preprocess ts instead: gemma-bench's own preprocessing is HF-exact and needs no download")
    if a.processor and not os.path.isdir(a.processor):
        problems.append(f"--processor {a.processor}: not a directory")
    if a.attention == "flash_attention_2" and a.dtype == "fp32":
        problems.append("flash_attention_2 runs in bf16 or fp16 only: use --dtype bf16, or --attention sdpa")
    if a.max_cache_len < 256:
        problems.append(f"--max-cache-len must be at least 256 tokens (got {a.max_cache_len})")
    if a.self_test_crops < 0 or a.self_test_batch < 1 or a.max_new_tokens < 1:
        problems.append("--self-test-crops must be >= 0, --self-test-batch and --max-new-tokens >= 1")
    try:
        parse_int_list(a.warm_batch_sizes)
    except ValueError:
        problems.append(f"--warm-batch-sizes must be comma-separated positive integers (got {a.warm_batch_sizes!r})")
    return problems


def parse_int_list(text: str) -> List[int]:
    out = [int(x) for x in text.split(",") if x.strip() != ""]
    if any(v < 1 for v in out):
        raise ValueError(text)
    return out


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


# ----------------------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested in test/python without torch)


def gemma3_config_dict(size: str) -> Dict[str, Any]:
    """The published Gemma 3 config.json for a size, written out in full so no download is needed.

    Both the legacy keys (rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern) that the Hub files
    carry and the explicit layer_types are given, so transformers 4.5x and v5 read the same architecture.
    """
    t = MODEL_SIZES[size]
    n = t["num_hidden_layers"]
    text = dict(
        model_type="gemma3_text", vocab_size=VOCAB_SIZE, hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6,
        max_position_embeddings=131072, rope_theta=1_000_000.0, rope_local_base_freq=10_000.0,
        rope_scaling={"rope_type": "linear", "factor": 8.0}, sliding_window=1024,
        sliding_window_pattern=SLIDING_WINDOW_PATTERN, layer_types=layer_types(n), attention_bias=False,
        attention_dropout=0.0, final_logit_softcapping=None, attn_logit_softcapping=None,
        pad_token_id=PAD_TOKEN_ID, bos_token_id=BOS_TOKEN_ID, eos_token_id=list(EOS_TOKEN_IDS),
        tie_word_embeddings=True, initializer_range=RANDOM_INIT_STD, **t,
    )
    return dict(
        model_type="gemma3", architectures=["Gemma3ForConditionalGeneration"], text_config=text,
        vision_config=dict(VISION_CONFIG), mm_tokens_per_image=MM_TOKENS_PER_IMAGE, boi_token_index=BOI_TOKEN_ID,
        eoi_token_index=EOI_TOKEN_ID, image_token_index=IMAGE_TOKEN_ID, initializer_range=RANDOM_INIT_STD,
        pad_token_id=PAD_TOKEN_ID, bos_token_id=BOS_TOKEN_ID, eos_token_id=list(EOS_TOKEN_IDS), tie_word_embeddings=True,
    )


def layer_types(num_layers: int) -> List[str]:
    """Layer i is global iff (i+1) % 6 == 0 (panscan-spec.md §4.4)."""
    return ["full_attention" if (i + 1) % SLIDING_WINDOW_PATTERN == 0 else "sliding_attention" for i in range(num_layers)]


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int = PAD_TOKEN_ID) -> Tuple[List[List[int]], List[List[int]]]:
    """Left-pads token sequences to one length: (input_ids, attention_mask). Left, so every row's last prompt token
    sits at the same position and generation appends to all rows at once."""
    width = max((len(s) for s in seqs), default=0)
    ids = [[pad_id] * (width - len(s)) + list(s) for s in seqs]
    mask = [[0] * (width - len(s)) + [1] * len(s) for s in seqs]
    return ids, mask


def image_sequence_ids() -> List[int]:
    return [NEWLINE2_ID, BOI_TOKEN_ID] + [IMAGE_TOKEN_ID] * MM_TOKENS_PER_IMAGE + [EOI_TOKEN_ID, NEWLINE2_ID]


def synthetic_input_ids(num_crops: int, question_tokens: int = 12) -> List[int]:
    """A prompt with the exact token layout Gemma3Processor gives one image with num_crops crops (panscan-spec.md
    §3.2-3.3: 276 + 261k image-related tokens for k >= 1, 260 for k = 0), with stand-in ids for the words. Random
    weights do not care which words they read; the layout (image runs, their count, the prompt length) is what
    the vision tower, the bidirectional image mask and the prefill cost depend on."""
    word = 1000  # any ordinary vocabulary id
    ids = [BOS_TOKEN_ID, START_OF_TURN_ID, word, 107]  # <bos><start_of_turn>user\n
    if num_crops == 0:
        ids += image_sequence_ids()
    else:
        ids += [word] * 5 + [SPACE_ID] + image_sequence_ids()  # "Here is the original image " SEQ
        ids += [word] * 10 + [SPACE_ID]  # " and here are some crops to help you see better "
        for i in range(num_crops):
            if i > 0:
                ids.append(SPACE_ID)
            ids += image_sequence_ids()
    ids += [word] * question_tokens + [END_OF_TURN_ID, 107, START_OF_TURN_ID, word, 107]
    return ids


def count_image_tokens(ids: Sequence[int]) -> int:
    return sum(1 for t in ids if t == IMAGE_TOKEN_ID)


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


def first_line(text: str, limit: int = STDERR_SNIPPET_CHARS) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[:limit] + "..."


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def failed_result(rid: Any, error: str) -> Dict[str, Any]:
    return {"id": rid, "ok": False, "error": error, "crops": 0, "imageTokens": 0, "promptTokens": 0, "outputTokens": 0,
            "tokenIds": [], "preprocessMs": None, "inputMs": None, "visionMs": None, "startMs": None, "tokenMs": []}


# ----------------------------------------------------------------------------------------------------------------
# Protocol output


class ProtocolOut:
    """JSON lines to the protocol stream; one line per message, flushed at once (the TS side stamps arrivals)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def send(self, msg: Dict[str, Any]) -> None:
        self.stream.write(json.dumps(msg, separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()

    def log(self, level: str, message: str) -> None:
        self.send({"type": "log", "level": level, "message": message})

    def fatal(self, f: WorkerFatal) -> None:
        self.send({"type": "fatal", "code": f.code, "message": str(f)})


def take_stdout_for_protocol() -> IO[str]:
    """Keeps the real stdout for protocol lines and sends everything else written to fd 1 to stderr."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(proto_fd, "w", buffering=1, encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------------
# Requests


@dataclass
class Prepared:
    """One request ready for the GPU: its pixel entries [1+k, 3, 896, 896] (float32) and its prompt ids."""

    id: Any
    max_new: int
    input_ids: List[int]
    pixel_values: Any  # numpy array or torch tensor, float32 [n, 3, 896, 896]
    entries: int
    preprocess_ms: Optional[float]
    input_ms: float


@dataclass
class GenOut:
    token_ids: List[List[int]]
    token_ms: List[float]
    start_ms: float
    vision_ms: Optional[float]
    notes: List[str] = field(default_factory=list)


def load_pixel_file(path: str, shape: Sequence[int]) -> Any:
    """Reads raw little-endian float32 pixel values written by gemma-bench and deletes the file."""
    import numpy as np

    try:
        want = 1
        for d in shape:
            want *= int(d)
        if len(shape) != 4 or list(shape[1:]) != [3, IMAGE_SIZE_PX, IMAGE_SIZE_PX]:
            raise ValueError(f"pixel shape must be [n, 3, {IMAGE_SIZE_PX}, {IMAGE_SIZE_PX}], got {list(shape)}")
        size = os.path.getsize(path)
        if size != want * 4:
            raise ValueError(f"pixel file {path} holds {size} bytes, expected {want * 4} for shape {list(shape)}")
        return np.fromfile(path, dtype="<f4", count=want).reshape([int(d) for d in shape])
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def prepare_ts(req: Dict[str, Any]) -> Prepared:
    t0 = time.perf_counter()
    px = req.get("pixels") or {}
    path, shape = px.get("path"), px.get("shape")
    if not isinstance(path, str) or not isinstance(shape, list):
        raise ValueError("request has no pixels {path, shape}")
    arr = load_pixel_file(path, shape)
    ids = [int(t) for t in req.get("inputIds") or []]
    entries = int(shape[0])
    check_image_tokens(ids, entries)
    return Prepared(id=req.get("id"), max_new=int(req.get("maxNewTokens", 1)), input_ids=ids, pixel_values=arr,
                    entries=entries, preprocess_ms=None, input_ms=(time.perf_counter() - t0) * 1000)


def check_image_tokens(ids: Sequence[int], entries: int) -> None:
    n = count_image_tokens(ids)
    if n != MM_TOKENS_PER_IMAGE * entries:
        raise ValueError(f"the prompt has {n} image tokens but {entries} image entries need "
                         f"{MM_TOKENS_PER_IMAGE * entries} ({MM_TOKENS_PER_IMAGE} each)")


def handle_batch(engine: "Engine", msg: Dict[str, Any], preprocess: str) -> Tuple[Dict[str, Any], bool]:
    """Runs one micro-batch; returns the result message and whether the CUDA context is broken (exit after)."""
    recv_time = time.time()
    p0 = time.perf_counter()
    reqs: List[Dict[str, Any]] = [r for r in (msg.get("requests") or []) if isinstance(r, dict)]
    results: Dict[Any, Dict[str, Any]] = {}
    prepared: List[Prepared] = []
    for req in reqs:
        rid = req.get("id")
        try:
            prepared.append(engine.prepare(req, preprocess))
        except Exception as e:  # a bad input fails its own request only
            results[rid] = failed_result(rid, f"preprocessing failed: {type(e).__name__}: {e}")
        finally:
            # A file of a request that failed before reading must not linger in /dev/shm.
            path = (req.get("pixels") or {}).get("path") if isinstance(req.get("pixels"), dict) else None
            if isinstance(path, str) and os.path.exists(path):
                try:
                    os.unlink(path)
                except OSError:
                    pass
    batch_error: Optional[str] = None
    oom = False
    broken = False
    notes: List[str] = []
    if prepared:
        max_new = max(p.max_new for p in prepared)
        try:
            g = engine.generate(prepared, max_new, p0)
            notes += g.notes
            for i, p in enumerate(prepared):
                n = p.max_new
                ids = g.token_ids[i][:n]
                results[p.id] = {
                    "id": p.id, "ok": True, "error": None, "crops": p.entries - 1,
                    "imageTokens": count_image_tokens(p.input_ids), "promptTokens": len(p.input_ids),
                    "outputTokens": len(ids), "tokenIds": ids, "preprocessMs": p.preprocess_ms, "inputMs": p.input_ms,
                    "visionMs": g.vision_ms, "startMs": g.start_ms, "tokenMs": g.token_ms[:n],
                }
        except Exception as e:
            if engine.is_oom(e):
                oom = True
                batch_error = f"CUDA out of memory: {first_line(str(e))}"
                engine.after_oom()
            else:
                batch_error = f"inference failed: {type(e).__name__}: {first_line(str(e))}"
                broken = engine.is_context_broken(e)
                traceback.print_exc(file=sys.stderr)
            for p in prepared:
                results[p.id] = failed_result(p.id, batch_error)
    out = {
        "type": "result", "batchId": msg.get("batchId"), "recvTime": recv_time,
        "results": [results.get(r.get("id")) or failed_result(r.get("id"), "no result") for r in reqs],
        "batchError": batch_error, "oom": oom, "notes": notes,
    }
    return out, broken


# ----------------------------------------------------------------------------------------------------------------
# Engines


class Engine:
    """What the protocol loop needs from a model runner."""

    def load(self) -> Dict[str, Any]:
        raise NotImplementedError

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        raise NotImplementedError

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        raise NotImplementedError

    def is_oom(self, e: BaseException) -> bool:
        return False

    def after_oom(self) -> None:
        pass

    def is_context_broken(self, e: BaseException) -> bool:
        return False


class FakeOutOfMemoryError(RuntimeError):
    pass


class FakeEngine(Engine):
    """No model: honours the protocol so tests can drive this script without torch (--preprocess ts only).
    Its "tokens" are diagnostics: [entries, prompt tokens, image tokens, 8-bit value of the first pixel, 0...]."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.batches = 0
        self.oom_batches = set(parse_int_list(a.fake_oom_batches)) if a.fake_oom_batches else set()

    def load(self) -> Dict[str, Any]:
        t0 = time.perf_counter()
        import numpy  # noqa: F401  (imported now, as torch would be, not inside the first batch)

        time.sleep(self.a.fake_load_ms / 1000)
        return {
            "model": {"name": "fake", "source": "fake", "modelSize": self.a.model_size, "parameters": 0,
                      "dtype": self.a.dtype, "attention": self.a.attention, "kvCache": self.a.kv_cache,
                      "preprocess": self.a.preprocess, "randomWeights": True, "processorClass": None,
                      "imageProcessorClass": None},
            "deviceMap": summarize_device_map({"": 0}, physical_gpus()),
            "gpus": [], "offloaded": False,
            "versions": {"python": sys.version.split()[0], "torch": None, "transformers": None, "accelerate": None,
                         "cuda": None, "flashAttn": None},
            "timings": {"importS": 0.0, "loadS": time.perf_counter() - t0, "warmupS": 0.0, "compileS": None},
            "compile": {"enabled": False, "ok": None, "error": None},
            "notes": ["fake engine: no model is loaded (tests only)"],
        }

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        if preprocess != "ts":
            raise ValueError("the fake engine supports --preprocess ts only")
        return prepare_ts(req)

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        self.batches += 1
        if self.a.fake_exit_batch and self.batches >= self.a.fake_exit_batch:
            sys.stderr.write("RuntimeError: fake worker: simulated crash in the middle of a batch\n")
            sys.stderr.write("fake worker: exiting with status 1\n")
            sys.stderr.flush()
            os._exit(1)
        if self.batches in self.oom_batches:
            raise FakeOutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
                                       "of 79.19 GiB of which 1.06 GiB is free. (simulated by the fake engine)")
        start_ms = (time.perf_counter() - p0) * 1000
        times: List[float] = []
        for _ in range(max_new):
            time.sleep(self.a.fake_token_ms / 1000)
            times.append((time.perf_counter() - p0) * 1000)
        ids: List[List[int]] = []
        for p in items:
            first = p.pixel_values.reshape(-1)[0]
            row = [p.entries, len(p.input_ids), count_image_tokens(p.input_ids), int(round(float(first) * 127.5 + 127.5))]
            ids.append((row + [0] * max_new)[:max_new])
        return GenOut(token_ids=ids, token_ms=times, start_ms=start_ms, vision_ms=0.0)

    def is_oom(self, e: BaseException) -> bool:
        return isinstance(e, FakeOutOfMemoryError)


class TorchEngine(Engine):
    """Gemma3ForConditionalGeneration on this process's GPUs, driven through generate() with a timing streamer."""

    def __init__(self, a: argparse.Namespace, out: Optional[ProtocolOut]) -> None:
        self.a = a
        self.out = out
        self.model: Any = None
        self.processor: Any = None
        self.torch: Any = None
        self.dtype: Any = None
        self.static_caches: Dict[Tuple[int, int], Any] = {}
        self.static_fallback = False
        self.compile_enabled = False
        self.vision_t0: Optional[float] = None
        self.vision_t1: Optional[float] = None
        self.vision_device: Any = None
        self.sync: Callable[[], None] = lambda: None

    def info(self, message: str) -> None:
        if self.out is not None:
            self.out.log("info", message)
        else:
            print(message, file=sys.stderr, flush=True)

    # -- loading ---------------------------------------------------------------------------------------------

    def load(self) -> Dict[str, Any]:
        t_imp = time.perf_counter()
        import torch
        import transformers
        import accelerate

        self.torch = torch
        import_s = time.perf_counter() - t_imp
        n_dev = torch.cuda.device_count()

        def sync_all() -> None:
            # torch.cuda.synchronize() waits for the current device only; a sharded replica runs on all of them.
            for i in range(n_dev):
                torch.cuda.synchronize(i)

        self.sync = sync_all
        tv = version_tuple(transformers.__version__)
        if tv < TRANSFORMERS_MIN:
            raise WorkerFatal("load-failed", f"transformers {transformers.__version__} has no Gemma 3 (it arrived in "
                              f"4.50): pip install -U transformers", EXIT_LOAD_FAILED)
        notes: List[str] = []
        if tv < TRANSFORMERS_TESTED_MIN:
            notes.append(f"transformers {transformers.__version__} is older than 4.56, the oldest API this worker was "
                         f"written against; if loading or generation fails: pip install -U transformers")
        if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
            raise WorkerFatal("no-gpu", f"torch {torch.__version__} sees no CUDA GPU (torch.version.cuda = "
                              f"{torch.version.cuda}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}). "
                              f"The transformers backend needs CUDA GPUs; a CPU-only torch build needs replacing with a "
                              f"CUDA one (see https://pytorch.org/get-started/locally/)", EXIT_NO_GPU)
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[self.a.dtype]
        if self.a.dtype == "bf16" and not torch.cuda.is_bf16_supported():
            raise WorkerFatal("load-failed", f"{torch.cuda.get_device_name(0)} has no bf16 support: use --dtype fp16 "
                              f"(Gemma 3 may overflow in fp16) or fp32", EXIT_LOAD_FAILED)
        if self.a.dtype == "fp16":
            notes.append("fp16: Gemma 3 was trained in bf16 and its activations can overflow in fp16 (inf/NaN logits); "
                         "speed numbers stay valid, outputs may not")
        torch.manual_seed(self.a.seed)

        t_load = time.perf_counter()
        if self.a.weights == "random":
            self.model = self.build_random_model()
            name = f"gemma-3-{self.a.model_size} (random weights)"
            source = "random"
        else:
            self.model = self.load_pretrained_model(tv)
            name = self.a.model
            source = "local" if os.path.isdir(self.a.model) else "hub"
        self.model.eval()
        self.configure_generation()
        if self.a.preprocess == "hf":
            self.processor = self.load_processor()
        load_s = time.perf_counter() - t_load

        device_map = getattr(self.model, "hf_device_map", None) or {"": self.first_device().index or 0}
        offloaded = any(str(d) in ("cpu", "disk") for d in device_map.values())
        if offloaded:
            notes.append("part of the model is offloaded to CPU or disk: it did not fit this replica's GPUs, and every "
                         "number measured will reflect the offloading; use more GPUs per replica")
        self.install_vision_timer()
        warm = self.warm_up()
        notes += warm.pop("notes")
        gpus = []
        phys = physical_gpus()
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gpus.append({"ordinal": i, "gpu": phys[i] if i < len(phys) else None, "name": props.name,
                         "totalMiB": round(props.total_memory / 2**20),
                         "allocatedMiB": round(torch.cuda.memory_allocated(i) / 2**20),
                         "reservedMiB": round(torch.cuda.memory_reserved(i) / 2**20)})
        fa = None
        if package_available("flash_attn"):
            try:
                import flash_attn  # noqa: F401

                fa = getattr(flash_attn, "__version__", "installed")
            except Exception as e:  # a broken flash-attn build is worth saying, not fatal unless asked for
                fa = f"broken: {first_line(str(e), 120)}"
        text_cfg = self.text_config()
        return {
            "model": {"name": name, "source": source, "modelSize": self.a.model_size,
                      "parameters": sum(p.numel() for p in self.model.parameters()),
                      "dtype": self.a.dtype, "attention": self.attention_in_use(), "kvCache": self.a.kv_cache,
                      "preprocess": self.a.preprocess, "randomWeights": self.a.weights == "random",
                      "numLayers": getattr(text_cfg, "num_hidden_layers", None),
                      "processorClass": type(self.processor).__name__ if self.processor is not None else None,
                      "imageProcessorClass": type(getattr(self.processor, "image_processor", None)).__name__
                      if self.processor is not None else None},
            "deviceMap": summarize_device_map(device_map, phys),
            "gpus": gpus, "offloaded": offloaded,
            "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                         "transformers": transformers.__version__, "accelerate": accelerate.__version__,
                         "cuda": torch.version.cuda, "flashAttn": fa},
            "timings": {"importS": import_s, "loadS": load_s, "warmupS": warm["warmupS"], "compileS": warm["compileS"]},
            "compile": warm["compile"],
            "notes": notes,
        }

    def from_config_kwargs(self) -> Dict[str, Any]:
        return {"attn_implementation": self.a.attention}

    def build_random_model(self) -> Any:
        """The published architecture with random weights, built on the meta device (no CPU copy at all) and then
        materialized layer by layer directly on the GPU that accelerate's planner gives it, so a 27B model needs its
        ~55 GB once, in GPU memory, and no host RAM. Norms start at identity, biases at 0, the rest N(0, 0.02)."""
        torch = self.torch
        from accelerate import dispatch_model, infer_auto_device_map, init_empty_weights
        from accelerate.utils import get_balanced_memory, set_module_tensor_to_device
        from transformers import Gemma3Config, Gemma3ForConditionalGeneration

        config = Gemma3Config.from_dict(gemma3_config_dict(self.a.model_size))
        self.info(f"building gemma-3-{self.a.model_size} with random weights ({self.a.dtype}, {self.a.attention}) "
                  f"on {torch.cuda.device_count()} GPU(s)")
        # The target dtype three ways, since versions differ in which one _from_config honours: the config's
        # dtype (v5 name and the 4.x name) and the default dtype around construction. Parameters stay on meta.
        for key in ("dtype", "torch_dtype"):
            try:
                setattr(config, key, self.dtype)
            except Exception:
                pass
        old_default = torch.get_default_dtype()
        torch.set_default_dtype(self.dtype)
        try:
            with init_empty_weights(include_buffers=False):
                model = Gemma3ForConditionalGeneration._from_config(config, **self.from_config_kwargs())
        finally:
            torch.set_default_dtype(old_default)
        keep_fp32 = list(getattr(model, "_keep_in_fp32_modules", None) or [])
        for pname, param in model.named_parameters():
            if param.dtype.is_floating_point and param.dtype != self.dtype and not any(k in pname for k in keep_fp32):
                param.data = param.data.to(self.dtype)  # still meta: costs nothing
        model.tie_weights()
        n = torch.cuda.device_count()
        no_split = list(getattr(model, "_no_split_modules", None) or [])
        max_memory: Dict[Any, int] = {i: int(torch.cuda.mem_get_info(i)[0] * DEVICE_MEMORY_FRACTION) for i in range(n)}
        if n > 1:
            max_memory = get_balanced_memory(model, max_memory=max_memory, no_split_module_classes=no_split, dtype=self.dtype)
        device_map = infer_auto_device_map(model, max_memory=max_memory, no_split_module_classes=no_split, dtype=self.dtype)
        if any(str(d) in ("cpu", "disk") for d in device_map.values()):
            need_gb = sum(p.numel() for p in model.parameters()) * torch.finfo(self.dtype).bits / 8 / 1e9
            free_gb = sum(torch.cuda.mem_get_info(i)[0] for i in range(n)) / 1e9
            raise WorkerFatal("load-failed", f"gemma-3-{self.a.model_size} in {self.a.dtype} needs about {need_gb:.0f} GB "
                              f"of weights, but the {n} GPU(s) of this replica have {free_gb:.0f} GB free: use more GPUs "
                              f"per replica (--gpus-per-replica) or a smaller --model-size", EXIT_LOAD_FAILED)
        torch.manual_seed(self.a.seed)  # seeds every device's generator: same weights for the same device map
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
        model = dispatch_model(model, device_map=device_map)
        model.hf_device_map = dict(device_map)
        return model

    def load_pretrained_model(self, tv: Tuple[int, ...]) -> Any:
        from transformers import Gemma3ForConditionalGeneration

        dtype_kw = "dtype" if tv >= (4, 56) else "torch_dtype"  # renamed in 4.56
        self.info(f"loading {self.a.model} ({self.a.dtype}, {self.a.attention}, device_map=auto over "
                  f"{self.torch.cuda.device_count()} GPU(s))")
        try:
            return Gemma3ForConditionalGeneration.from_pretrained(
                self.a.model, device_map="auto", attn_implementation=self.a.attention, **{dtype_kw: self.dtype})
        except (OSError, ValueError) as e:
            raise WorkerFatal("load-failed", f"could not load {self.a.model}: {first_line(str(e))}. For a gated Hub "
                              f"model accept its licence and log in (huggingface-cli login); or run without weights: "
                              f"--weights random --model-size 27b", EXIT_LOAD_FAILED) from e

    def load_processor(self) -> Any:
        from transformers import AutoProcessor

        src = self.a.processor or self.a.model
        try:
            return AutoProcessor.from_pretrained(src)
        except (OSError, ValueError) as e:
            raise WorkerFatal("load-failed", f"could not load the Gemma 3 processor from {src}: {first_line(str(e))}. "
                              f"Use --preprocess ts (no processor needed) or --processor DIR", EXIT_LOAD_FAILED) from e

    def configure_generation(self) -> None:
        """Greedy, no sampling knobs left over from the checkpoint's generation_config (Gemma's sets top_k/top_p)."""
        gc = self.model.generation_config
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
        if self.a.kv_cache == "static":
            try:
                import torch._dynamo

                torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, DYNAMO_CACHE_SIZE_LIMIT)
            except Exception:
                pass
            self.compile_enabled = True
        elif hasattr(gc, "disable_compile"):
            gc.disable_compile = True

    def text_config(self) -> Any:
        cfg = self.model.config
        try:
            return cfg.get_text_config(decoder=True)
        except TypeError:
            return cfg.get_text_config()

    def attention_in_use(self) -> str:
        return str(getattr(self.model.config, "_attn_implementation", None) or self.a.attention)

    def first_device(self) -> Any:
        return next(self.model.parameters()).device

    def vision_modules(self) -> Tuple[Any, Any]:
        m = self.model
        inner = getattr(m, "model", m)
        vt = getattr(inner, "vision_tower", None) or getattr(m, "vision_tower", None)
        pj = getattr(inner, "multi_modal_projector", None) or getattr(m, "multi_modal_projector", None)
        if vt is None or pj is None:
            raise WorkerFatal("load-failed", "this model has no vision_tower / multi_modal_projector: is it a Gemma 3 "
                              "vision model (not gemma-3-1b)?", EXIT_LOAD_FAILED)
        return vt, pj

    def install_vision_timer(self) -> None:
        """visionMs = vision tower + projector, synchronized on both sides (hooks fire only in the prefill)."""
        vt, pj = self.vision_modules()
        self.vision_device = next(vt.parameters()).device

        def pre(_m: Any, _args: Any) -> None:
            if self.vision_t0 is None:
                self.sync()
                self.vision_t0 = time.perf_counter()

        def post(_m: Any, _args: Any, _out: Any) -> None:
            self.sync()
            self.vision_t1 = time.perf_counter()

        vt.register_forward_pre_hook(pre)
        pj.register_forward_hook(post)

    # -- requests --------------------------------------------------------------------------------------------

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        if preprocess == "ts":
            return prepare_ts(req)
        return self.prepare_hf(req)

    def prepare_hf(self, req: Dict[str, Any]) -> Prepared:
        """HF's own pipeline: PIL decode, then Gemma3Processor with pan-and-scan passed at call time (its defaults
        shadow anything set on the image processor: panscan-spec.md §2.1)."""
        from PIL import Image, ImageOps

        t0 = time.perf_counter()
        path = req.get("imagePath")
        limit = int(req.get("pixelLimit") or 0) or None
        Image.MAX_IMAGE_PIXELS = limit
        with Image.open(path) as im:
            if limit is not None and im.width * im.height > limit:
                raise ValueError(f"{path}: {im.width}x{im.height} is over the pixel limit ({limit})")
            im.load()
            if req.get("exifOrientation") == "apply":
                im = ImageOps.exif_transpose(im)
            img = im.convert("RGB")
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": req.get("prompt", "")}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ps = req.get("panScan")
        kw: Dict[str, Any] = {"do_pan_and_scan": ps is not None}
        if ps is not None:
            kw.update(pan_and_scan_min_crop_size=int(ps["minCropSize"]), pan_and_scan_max_num_crops=int(ps["maxNumCrops"]),
                      pan_and_scan_min_ratio_to_activate=float(ps["minRatioToActivate"]))
        enc = self.processor(text=[text], images=[[img]], return_tensors="pt", **kw)
        ids = enc["input_ids"][0].tolist()
        pv = enc["pixel_values"]
        entries = int(pv.shape[0])
        check_image_tokens(ids, entries)
        ms = (time.perf_counter() - t0) * 1000
        return Prepared(id=req.get("id"), max_new=int(req.get("maxNewTokens", 1)), input_ids=ids, pixel_values=pv,
                        entries=entries, preprocess_ms=ms, input_ms=ms)

    def dynamic_cache(self) -> Any:
        from transformers import DynamicCache
        import inspect

        params = inspect.signature(DynamicCache.__init__).parameters
        if "config" in params:
            return DynamicCache(config=self.text_config())
        return DynamicCache()

    def static_cache(self, batch: int, needed: int) -> Tuple[Any, Optional[str]]:
        """A StaticCache for (batch, bucket) kept across batches, so each shape is compiled once."""
        bucket = max(self.a.max_cache_len, int(math.ceil(needed / STATIC_CACHE_BUCKET_TOKENS)) * STATIC_CACHE_BUCKET_TOKENS)
        key = (batch, bucket)
        cache = self.static_caches.get(key)
        if cache is not None:
            self.static_caches[key] = self.static_caches.pop(key)  # most recently used last
            cache.reset()
            return cache, None
        while len(self.static_caches) >= STATIC_CACHES_KEPT:
            self.static_caches.pop(next(iter(self.static_caches)))
            self.torch.cuda.empty_cache()
        cache = make_static_cache(self.text_config(), batch, bucket, self.first_device(), self.dtype,
                                  layer_device_map(getattr(self.model, "hf_device_map", None) or {}, self.text_config()))
        self.static_caches[key] = cache
        if not self.compile_enabled:
            return cache, None
        return cache, (f"static KV cache for batch {batch} x {bucket} tokens created: the decode step is compiled for "
                       f"this shape now, so this batch's timings include compilation")

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        torch = self.torch
        notes: List[str] = []
        ids, mask = left_pad([p.input_ids for p in items])
        dev = self.first_device()
        input_ids = torch.tensor(ids, dtype=torch.long, device=dev)
        attention_mask = torch.tensor(mask, dtype=torch.long, device=dev)
        token_type_ids = (input_ids == IMAGE_TOKEN_ID).long()
        pix = [p.pixel_values if torch.is_tensor(p.pixel_values) else torch.from_numpy(p.pixel_values) for p in items]
        pixel_values = torch.cat(pix).to(self.vision_device, dtype=self.dtype)
        kwargs: Dict[str, Any] = dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                                      pixel_values=pixel_values, max_new_tokens=max_new, min_new_tokens=max_new,
                                      do_sample=False, num_beams=1)
        if self.a.kv_cache == "static" and not self.static_fallback:
            try:
                cache, note = self.static_cache(len(items), input_ids.shape[1] + max_new)
                kwargs["past_key_values"] = cache
                if note:
                    notes.append(note)
            except Exception as e:  # an API this worker does not know: let transformers build its own static cache
                self.static_fallback = True
                notes.append(f"could not build a StaticCache directly ({type(e).__name__}: {first_line(str(e), 160)}); "
                             f"using generate(cache_implementation='static')")
        if self.a.kv_cache == "static" and self.static_fallback:
            kwargs["cache_implementation"] = "static"
        elif self.a.kv_cache == "dynamic":
            kwargs["past_key_values"] = self.dynamic_cache()
        clock = make_token_clock(self.sync, p0)
        kwargs["streamer"] = clock
        self.vision_t0 = self.vision_t1 = None
        self.sync()
        start_ms = (time.perf_counter() - p0) * 1000
        with torch.inference_mode():
            out = self.model.generate(**kwargs)
        width = input_ids.shape[1]
        token_ids = out[:, width:].tolist()
        vision_ms = (self.vision_t1 - self.vision_t0) * 1000 if self.vision_t0 is not None and self.vision_t1 is not None else None
        times = clock.times[-max_new:]
        if len(times) != max_new or any(len(r) != max_new for r in token_ids):
            notes.append(f"generate produced {len(token_ids[0]) if token_ids else 0} tokens and {len(times)} time stamps "
                         f"for {max_new} asked")
        return GenOut(token_ids=token_ids, token_ms=times, start_ms=start_ms, vision_ms=vision_ms, notes=notes)

    def is_oom(self, e: BaseException) -> bool:
        torch = self.torch
        oom_cls = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
        return (oom_cls is not None and isinstance(e, oom_cls)) or "CUDA out of memory" in str(e)

    def after_oom(self) -> None:
        # Cached static caches may be what filled the memory; drop them with the allocator's free blocks.
        self.static_caches.clear()
        self.torch.cuda.empty_cache()

    def is_context_broken(self, e: BaseException) -> bool:
        s = str(e)
        return ("CUDA error" in s or "device-side assert" in s or "illegal memory access" in s) and "out of memory" not in s

    # -- warm-up ---------------------------------------------------------------------------------------------

    def warm_up(self) -> Dict[str, Any]:
        """One synthetic image request per warm batch size (vision, prefill, a few decode steps) so cuBLAS/cuDNN
        set-up and, with a static cache, torch.compile happen here and not in the first measured request. With a
        static cache the first pass compiles and the second measures the same shape warm: compileS is the
        difference."""
        import numpy as np

        notes: List[str] = []
        sizes = parse_int_list(self.a.warm_batch_sizes) or [1]
        graphs_before = dynamo_graph_count()
        t0 = time.perf_counter()
        compile_s: Optional[float] = None
        compile_info: Dict[str, Any] = {"enabled": self.compile_enabled, "ok": None, "error": None}

        def item() -> Prepared:
            ids = synthetic_input_ids(0)
            px = np.zeros((1, 3, IMAGE_SIZE_PX, IMAGE_SIZE_PX), dtype=np.float32)
            return Prepared(id=0, max_new=WARMUP_NEW_TOKENS, input_ids=ids, pixel_values=px, entries=1,
                            preprocess_ms=None, input_ms=0.0)

        def run(b: int) -> float:
            s = time.perf_counter()
            self.generate([item() for _ in range(b)], WARMUP_NEW_TOKENS, time.perf_counter())
            return time.perf_counter() - s

        for b in sizes:
            if self.compile_enabled:
                try:
                    first = run(b)
                    second = run(b)
                    compile_s = (compile_s or 0.0) + max(0.0, first - second)
                    compile_info["ok"] = True
                except Exception as e:
                    if self.is_oom(e):
                        raise
                    # Compilation of a sharded model can fail (accelerate hooks, graph breaks): measure uncompiled.
                    compile_info.update(ok=False, error=f"{type(e).__name__}: {first_line(str(e), 300)}")
                    notes.append(f"torch.compile of the static-cache decode step failed, continuing without it: "
                                 f"{compile_info['error']}")
                    traceback.print_exc(file=sys.stderr)
                    self.compile_enabled = False
                    gc = self.model.generation_config
                    if hasattr(gc, "disable_compile"):
                        gc.disable_compile = True
                    run(b)
            else:
                run(b)
        if self.compile_enabled and compile_info["ok"]:
            # generate() compiles only when its auto-compile criteria hold: check that dynamo really built graphs.
            graphs_after = dynamo_graph_count()
            detected = None if graphs_before is None or graphs_after is None else graphs_after > graphs_before
            compile_info["detected"] = detected
            if detected is False:
                compile_info.update(ok=False, error="transformers did not compile the decode step (its auto-compile "
                                    "criteria were not met); the static cache runs eagerly")
                notes.append(compile_info["error"])
                compile_s = None
        return {"warmupS": time.perf_counter() - t0, "compileS": compile_s, "compile": compile_info, "notes": notes}


def dynamo_graph_count() -> Optional[int]:
    """Graphs torch.compile has built so far in this process (None where the counter is not available)."""
    try:
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])
    except Exception:
        return None


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


def layer_device_map(device_map: Dict[str, Any], text_config: Any) -> Optional[Dict[int, Any]]:
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


def make_static_cache(config: Any, batch: int, max_len: int, device: Any, dtype: Any, ldm: Optional[Dict[int, Any]]) -> Any:
    """StaticCache across API generations: v5 takes (config, max_cache_len) and sizes itself lazily; 4.5x wants the
    batch size, device, dtype and, for a sharded model, the layer -> device map."""
    import inspect
    from transformers import StaticCache

    params = inspect.signature(StaticCache.__init__).parameters
    kw: Dict[str, Any] = {"config": config, "max_cache_len": max_len}
    for name in ("max_batch_size", "batch_size"):
        if name in params:
            kw[name] = batch
    if "device" in params:
        kw["device"] = device
    if "dtype" in params:
        kw["dtype"] = dtype
    if "layer_device_map" in params and ldm is not None:
        kw["layer_device_map"] = ldm
    return StaticCache(**kw)


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


# ----------------------------------------------------------------------------------------------------------------
# Modes


def probe(a: argparse.Namespace) -> Dict[str, Any]:
    """The environment as the TS side's start-up checks need it. Imports torch (a few seconds) unless fake."""
    versions: Dict[str, Optional[str]] = {}
    for name, mod in (("torch", "torch"), ("transformers", "transformers"), ("accelerate", "accelerate"),
                      ("flashAttn", "flash_attn"), ("pillow", "PIL"), ("numpy", "numpy")):
        versions[name] = "installed" if package_available(mod) else None
    cuda: Dict[str, Any] = {"available": False, "deviceCount": 0, "torchCuda": None, "devices": []}
    problems: List[str] = []
    if a.engine != "fake":
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
        for name, mod in (("transformers", "transformers"), ("accelerate", "accelerate")):
            try:
                versions[name] = __import__(mod).__version__
            except Exception as e:
                problems.append(f"import {mod} failed: {type(e).__name__}: {first_line(str(e))}")
        tv = versions.get("transformers")
        if tv and tv != "installed" and version_tuple(tv) < TRANSFORMERS_MIN:
            problems.append(f"transformers {tv} has no Gemma 3 (it arrived in 4.50): pip install -U transformers")
    return {"type": "probe", "protocol": PROTOCOL_VERSION, "engine": a.engine,
            "python": {"version": sys.version.split()[0], "executable": sys.executable},
            "packages": versions, "cuda": cuda, "problems": problems}


def serve(engine: Engine, out: ProtocolOut, a: argparse.Namespace, stdin: IO[bytes]) -> int:
    ready = engine.load()
    ready.update({"type": "ready", "protocol": PROTOCOL_VERSION, "replica": a.replica, "pid": os.getpid(),
                  "time": time.time()})
    out.send(ready)
    while True:
        raw = stdin.readline()
        if not raw:
            return EXIT_OK  # the parent closed our stdin (or died): nothing more will come
        line = raw.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            out.log("warn", f"unreadable message ignored: {line[:120]!r}")
            continue
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "ping":
            out.send({"type": "pong", "t": msg.get("t"), "time": time.time()})
        elif kind == "batch":
            result, broken = handle_batch(engine, msg, a.preprocess)
            out.send(result)
            if broken:
                out.fatal(WorkerFatal("cuda-broken", f"the CUDA context is unusable after: {result['batchError']}",
                                      EXIT_CUDA_BROKEN))
                return EXIT_CUDA_BROKEN
        elif kind == "shutdown":
            return EXIT_OK
        else:
            out.log("warn", f"unknown message type {kind!r} ignored")


def self_test(engine: TorchEngine, out: ProtocolOut, a: argparse.Namespace) -> int:
    """One synthetic request (or micro-batch) through the same batch path the protocol uses, printed readably."""
    import numpy as np

    def say(s: str) -> None:
        print(s, flush=True)

    ready = engine.load()
    say(f"model: {ready['model']['name']}  {ready['model']['parameters'] / 1e9:.3f} B parameters  dtype {a.dtype}  "
        f"attention {ready['model']['attention']}  kv cache {a.kv_cache}")
    for d in ready["deviceMap"]:
        say(f"  {d['device']} (GPU {d['gpu']}): {', '.join(d['modules'])}")
    for g in ready["gpus"]:
        say(f"  cuda:{g['ordinal']} {g['name']}: {g['allocatedMiB']} MiB allocated, {g['reservedMiB']} MiB reserved "
            f"of {g['totalMiB']} MiB")
    t = ready["timings"]
    say(f"versions: {json.dumps(ready['versions'])}")
    compile_s = "n/a" if t["compileS"] is None else f"{t['compileS']:.1f} s"
    say(f"import {t['importS']:.1f} s, load {t['loadS']:.1f} s, warm-up {t['warmupS']:.1f} s, compile {compile_s}")
    for n in ready["notes"]:
        say(f"note: {n}")
    k = a.self_test_crops
    rng = np.random.default_rng(a.seed)
    summaries = []
    for attempt in ("first", "second"):
        reqs = []
        for i in range(a.self_test_batch):
            if a.preprocess == "ts":
                px = rng.uniform(-1, 1, size=(1 + k, 3, IMAGE_SIZE_PX, IMAGE_SIZE_PX)).astype("<f4")
                fd, path = tempfile.mkstemp(prefix="gemma-bench-selftest-", suffix=".f32", dir=shm_dir())
                with os.fdopen(fd, "wb") as f:
                    f.write(px.tobytes())
                reqs.append({"id": i, "maxNewTokens": a.max_new_tokens, "inputIds": synthetic_input_ids(k),
                             "pixels": {"path": path, "shape": list(px.shape), "dtype": "float32"}})
            else:
                reqs.append({"id": i, "maxNewTokens": a.max_new_tokens, "imagePath": synthetic_image_file(k, a.seed),
                             "prompt": "Extract all the text in this document and summarise what it is about.",
                             "panScan": {"minRatioToActivate": 1.2, "maxNumCrops": max(k, 1), "minCropSize": 256}
                             if k > 0 else None, "exifOrientation": "ignore", "pixelLimit": 89478485})
        result, _ = handle_batch(engine, {"type": "batch", "batchId": 0, "requests": reqs}, a.preprocess)
        r = result["results"][0]
        if not r["ok"]:
            say(f"self-test FAILED: {r['error']}")
            out.send({"type": "self-test", "ok": False, "error": r["error"]})
            return 1
        tm = r["tokenMs"]
        gaps = [b - x for x, b in zip(tm, tm[1:])]
        s = {"attempt": attempt, "batch": a.self_test_batch, "crops": r["crops"], "promptTokens": r["promptTokens"],
             "outputTokens": r["outputTokens"], "preprocessMs": r["preprocessMs"], "visionMs": r["visionMs"],
             "ttftMs": tm[0] if tm else None, "itlMeanMs": sum(gaps) / len(gaps) if gaps else None,
             "itlP50Ms": percentile(gaps, 0.5), "itlP90Ms": percentile(gaps, 0.9), "e2eMs": tm[-1] if tm else None,
             "decodeTokS": (len(gaps) * a.self_test_batch) / ((tm[-1] - tm[0]) / 1000) if len(tm) > 1 else None,
             "notes": result["notes"]}
        summaries.append(s)

        def f(v: Optional[float]) -> str:
            return "n/a" if v is None else f"{v:.1f}"

        say(f"{attempt} pass: batch {s['batch']}, {s['crops']} crops, {s['promptTokens']} prompt tokens, "
            f"{s['outputTokens']} output tokens | preprocess {f(s['preprocessMs'])} ms, vision {f(s['visionMs'])} ms, "
            f"TTFT {f(s['ttftMs'])} ms, ITL mean {f(s['itlMeanMs'])} / p50 {f(s['itlP50Ms'])} / p90 "
            f"{f(s['itlP90Ms'])} ms, e2e {f(s['e2eMs'])} ms, decode {f(s['decodeTokS'])} tok/s")
        for n in result["notes"]:
            say(f"  note: {n}")
    out.send({"type": "self-test", "ok": True, "ready": ready, "passes": summaries})
    return 0


def shm_dir() -> Optional[str]:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def synthetic_image_file(num_crops: int, seed: int) -> str:
    """A portrait page whose aspect ratio gives num_crops crops under HF's rule (height/width ~ num_crops)."""
    from PIL import Image
    import numpy as np

    w = 896
    h = w * max(1, num_crops) if num_crops > 0 else w
    arr = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    fd, path = tempfile.mkstemp(prefix="gemma-bench-selftest-", suffix=".png")
    os.close(fd)
    Image.fromarray(arr).save(path)
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    protocol_mode = not a.self_test
    # In the protocol (and --probe) the real stdout carries JSON lines only; a self-test talks to a person on stdout.
    out = ProtocolOut(take_stdout_for_protocol() if protocol_mode else sys.stdout)

    def fail(f: WorkerFatal) -> int:
        print(f"gemma-bench worker: {f}", file=sys.stderr, flush=True)
        if protocol_mode:
            out.fatal(f)
        return f.exit_status

    problems = validate_args(a)
    if problems:
        return fail(WorkerFatal("bad-args", "; ".join(problems), EXIT_USAGE))
    if a.engine != "fake":
        dep = dependency_problem(a)
        if dep is not None:
            return fail(dep)
    if a.probe:
        out.send(probe(a))
        return EXIT_OK
    if protocol_mode:
        # The parent owns our lifetime (shutdown message, stdin EOF, SIGTERM): Ctrl-C in its terminal, which reaches
        # the whole process group, must not kill a replica mid-batch.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine: Engine = FakeEngine(a) if a.engine == "fake" else TorchEngine(a, out if protocol_mode else None)
    try:
        if a.self_test:
            if not isinstance(engine, TorchEngine):
                raise WorkerFatal("bad-args", "--self-test needs the torch engine", EXIT_USAGE)
            return self_test(engine, out, a)
        return serve(engine, out, a, sys.stdin.buffer)
    except WorkerFatal as f:
        return fail(f)
    except Exception as e:
        traceback.print_exc(file=sys.stderr)
        oom = "out of memory" in str(e)
        hint = " (CUDA out of memory while loading: use more GPUs per replica or a smaller model)" if oom else ""
        return fail(WorkerFatal("load-failed", f"{type(e).__name__}: {first_line(str(e))}{hint}", EXIT_LOAD_FAILED))


if __name__ == "__main__":
    sys.exit(main())

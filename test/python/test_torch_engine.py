"""The torch engine on the CPU, where torch, transformers and accelerate are importable (skipped elsewhere, with the
reason): a static KV cache reused across generate() calls, and TorchEngine end to end on a tiny Gemma 3 built from the
published config with small widths (real 896 px images, 256 tokens per image), its GPU check stubbed out.

Static caches: transformers v5 allocates a StaticCache's tensors on its first update, inside generate()'s inference
mode, so they are inference tensors; resetting one for the next batch must happen in inference mode too, or torch
refuses and the worker would fall back to generate(cache_implementation='static') for good.

Run: python3 -m unittest discover -s test/python -v   (with an interpreter that has torch to run these)
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import unittest
from typing import Any, Dict, List
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "python"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from gemma_bench import batch, cli, gemma3  # noqa: E402

NEEDED = ("torch", "transformers", "accelerate", "numpy")
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]
SKIP_REASON = (f"needs {', '.join(NEEDED)} in {sys.executable}; missing: {', '.join(MISSING)} "
               f"(the static-cache and torch-engine tests run wherever torch is installed)")


def tiny_config_dict() -> Dict[str, Any]:
    """The published Gemma 3 config (token ids, 896 px, 256 tokens per image) with tiny widths and 6 layers (5 sliding,
    1 global), so it runs on a CPU in seconds."""
    cfg = gemma3.gemma3_config_dict("4b")
    cfg["text_config"].update(hidden_size=32, num_hidden_layers=6, num_attention_heads=2, num_key_value_heads=1,
                              head_dim=16, intermediate_size=64, query_pre_attn_scalar=16, sliding_window=64,
                              layer_types=gemma3.layer_types(6))
    cfg["vision_config"].update(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    return cfg


class StubModel:
    """What KVCaches reads of a model: its config and first parameter's device."""

    def __init__(self, text_config: Any) -> None:
        import torch

        self.config = mock.Mock()
        self.config.get_text_config = lambda decoder=True: text_config
        self._p = torch.zeros(1)

    def parameters(self) -> Any:
        return iter([self._p])


@unittest.skipIf(MISSING, SKIP_REASON)
class StaticCacheReuseTests(unittest.TestCase):
    def fill(self, cache: Any, layers: int, tokens: int) -> None:
        """What generate() does to a cache: updates every layer inside inference mode (where v5 allocates lazily)."""
        import torch

        k = torch.ones(1, 1, tokens, 16)
        with torch.inference_mode():
            for i in range(layers):
                cache.update(k, k, i, {"cache_position": torch.arange(tokens)})

    def test_a_static_cache_is_reused_twice_without_falling_back(self) -> None:
        import torch
        from transformers import Gemma3TextConfig

        from gemma_bench.engines.kv_cache import KVCaches

        text = Gemma3TextConfig(**{k: v for k, v in tiny_config_dict()["text_config"].items() if k != "model_type"})
        caches = KVCaches(torch, StubModel(text), torch.float32, "static", 256, lambda: True)
        first, notes = caches.generate_kwargs(1, 40)
        self.assertIn("static KV cache for batch 1 x 512 tokens created", " ".join(notes))
        cache = first["past_key_values"]
        for attempt in ("first reuse", "second reuse"):
            self.fill(cache, 6, 40)
            kwargs, notes = caches.generate_kwargs(1, 40)
            self.assertEqual(notes, [], attempt)
            self.assertFalse(caches.static_fallback, attempt)
            self.assertIs(kwargs["past_key_values"], cache, f"{attempt}: the kept cache is reused")
            self.assertNotIn("cache_implementation", kwargs)
            self.assertEqual(int(cache.get_seq_length()), 0, f"{attempt}: reset emptied the cache")


@unittest.skipIf(MISSING, SKIP_REASON)
class TorchEngineOnCpuTests(unittest.TestCase):
    """TorchEngine.load / prepare / generate on a tiny model saved to disk, as --model DIR --dtype fp32 on the CPU."""

    model_dir = ""

    @classmethod
    def setUpClass(cls) -> None:
        import torch
        from transformers import Gemma3Config, Gemma3ForConditionalGeneration

        torch.manual_seed(0)
        cls.model_dir = tempfile.mkdtemp(prefix="gemma-bench-tiny-")
        model = Gemma3ForConditionalGeneration(Gemma3Config.from_dict(tiny_config_dict()))
        model.save_pretrained(cls.model_dir)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.model_dir, ignore_errors=True)

    def engine(self, *extra: str) -> Any:
        from gemma_bench.engines.torch_engine import TorchEngine

        a = cli.build_parser().parse_args(["--model", self.model_dir, "--dtype", "fp32", *extra])
        self.assertEqual(cli.validate_args(a), [])
        return TorchEngine(a, None)

    def load(self, engine: Any) -> Dict[str, Any]:
        # The only thing a CPU lacks: the worker refuses to run without a CUDA GPU.
        with mock.patch("gemma_bench.engines.torch_runtime.check_gpu"):
            return engine.load()

    def request(self, rid: int, crops: int, max_new: int) -> Dict[str, Any]:
        import numpy as np

        px = np.zeros((1 + crops, 3, 896, 896), dtype="<f4")
        fd, path = tempfile.mkstemp(suffix=".f32")
        with os.fdopen(fd, "wb") as f:
            f.write(px.tobytes())
        return {"id": rid, "maxNewTokens": max_new, "inputIds": gemma3.synthetic_input_ids(crops),
                "pixels": {"path": path, "shape": list(px.shape), "dtype": "float32"}}

    def run_batch(self, engine: Any, reqs: List[Dict[str, Any]]) -> Dict[str, Any]:
        out, broken = batch.handle_batch(engine, {"type": "batch", "batchId": 0, "requests": reqs}, "ts")
        self.assertFalse(broken)
        for r in out["results"]:
            self.assertTrue(r["ok"], r["error"])
        return out

    def test_static_cache_ready_notes_and_batches(self) -> None:
        e = self.engine("--kv-cache", "static", "--warm-batch-sizes", "1,2")
        ready = self.load(e)
        notes = ready["notes"]
        # Making each warmed shape's static cache is what warming up is for: not a note (abnormal ones are).
        self.assertFalse(any("static KV cache for batch" in n for n in notes), notes)
        # The second warm-up pass of each size reused its cache: no fallback to transformers' own cache.
        self.assertFalse(any("could not build a StaticCache" in n for n in notes), notes)
        self.assertFalse(e.caches.static_fallback)
        self.assertEqual(sorted(e.caches.static_caches), [(1, 4096), (2, 4096)])
        self.assertEqual(ready["compile"]["enabled"], True)
        self.assertEqual(ready["model"]["kvCache"], "static")
        self.assertEqual(ready["timings"]["importS"] >= 0, True)
        kept = e.caches.static_caches[(1, 4096)]
        for _ in range(2):
            out = self.run_batch(e, [self.request(1, 2, 3)])
            self.assertEqual(out["notes"], [])
            r = out["results"][0]
            self.assertEqual((r["crops"], r["imageTokens"], r["outputTokens"], len(r["tokenMs"])), (2, 768, 3, 3))
            self.assertIsNotNone(r["visionMs"])
        self.assertIs(e.caches.static_caches[(1, 4096)], kept)
        self.assertFalse(e.caches.static_fallback)

    def test_random_weights(self) -> None:
        # --weights random builds on meta and fills each parameter on its planned device; here the tiny config stands
        # in for the published one and the plan is "everything on the CPU" (the planner needs CUDA memory figures).
        e = self.engine("--weights", "random", "--model-size", "4b")
        with mock.patch("gemma_bench.engines.random_weights.gemma3_config_dict", lambda size: tiny_config_dict()), \
                mock.patch("gemma_bench.engines.random_weights.plan_device_map", lambda a, rt, model: {"": "cpu"}):
            ready = self.load(e)
        self.assertEqual((ready["model"]["name"], ready["model"]["source"]), ("gemma-3-4b (random weights)", "random"))
        self.assertTrue(ready["model"]["randomWeights"])
        self.assertEqual(ready["deviceMap"], [{"device": "cpu", "gpu": None, "modules": ["everything"]}])
        self.assertTrue(ready["offloaded"])
        model = e.loaded.model
        self.assertFalse(any(p.is_meta for p in model.parameters()))
        self.assertIs(model.lm_head.weight, model.get_input_embeddings().weight)
        out = self.run_batch(e, [self.request(1, 1, 2)])
        self.assertEqual(out["results"][0]["outputTokens"], 2)

    def test_dynamic_cache_batch_of_two(self) -> None:
        e = self.engine()
        ready = self.load(e)
        self.assertEqual(ready["compile"], {"enabled": False, "ok": None, "error": None})
        self.assertEqual(ready["model"]["name"], self.model_dir)
        self.assertEqual(ready["model"]["source"], "local")
        out = self.run_batch(e, [self.request(1, 0, 2), self.request(2, 3, 4)])
        self.assertEqual([r["outputTokens"] for r in out["results"]], [2, 4])
        self.assertEqual(out["notes"], [])


if __name__ == "__main__":
    unittest.main()

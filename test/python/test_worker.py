"""Unit tests of the worker package python/gemma_bench/ (entry point python/gemma_bench_worker.py) that need no
torch: argument checks, the dependency message, the published architectures, prompt layout, left padding,
device-map summaries, and the batch path with the fake engine (pixel files read and deleted, a simulated CUDA OOM
failing its batch only). test_entry.py runs the entry script itself; test_warmup.py and test_torch_engine.py cover
the warm-up notes and the static KV cache.

Run: python3 -m unittest discover -s test/python -v   (the Node test suite runs it too)
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "python"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from gemma_bench import batch, cli, deps, gemma3, protocol, self_test  # noqa: E402
from gemma_bench import device_map  # noqa: E402
from gemma_bench.engines.fake import FakeEngine  # noqa: E402

HAS_NUMPY = importlib.util.find_spec("numpy") is not None


def args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def count_params(cfg: Dict[str, Any]) -> int:
    """Parameters of Gemma3ForConditionalGeneration from its config alone (tied lm_head counted once)."""
    t, v = cfg["text_config"], cfg["vision_config"]
    d, hd, h, kv, i = t["hidden_size"], t["head_dim"], t["num_attention_heads"], t["num_key_value_heads"], t["intermediate_size"]
    layer = d * h * hd + 2 * d * kv * hd + h * hd * d + 2 * hd + 3 * d * i + 4 * d
    text = t["vocab_size"] * d + t["num_hidden_layers"] * layer + d
    vd, vi, p = v["hidden_size"], v["intermediate_size"], v["patch_size"]
    patches = (v["image_size"] // p) ** 2
    vlayer = 4 * (vd * vd + vd) + 2 * 2 * vd + vd * vi + vi + vi * vd + vd
    vision = 3 * p * p * vd + vd + patches * vd + v["num_hidden_layers"] * vlayer + 2 * vd
    projector = vd * d + vd
    return text + vision + projector


class ArgumentTests(unittest.TestCase):
    def test_random_weights_need_a_size(self) -> None:
        self.assertIn("--model-size 4b, 12b or 27b", " ".join(cli.validate_args(args("--weights", "random"))))
        self.assertEqual(cli.validate_args(args("--weights", "random", "--model-size", "27b")), [])

    def test_pretrained_needs_a_model(self) -> None:
        self.assertIn("give --model", " ".join(cli.validate_args(args())))
        self.assertEqual(cli.validate_args(args("--model", "google/gemma-3-4b-it")), [])

    def test_hf_preprocessing_of_random_weights_needs_a_local_processor(self) -> None:
        p = " ".join(cli.validate_args(args("--weights", "random", "--model-size", "4b", "--preprocess", "hf")))
        self.assertIn("--processor PATH", p)
        self.assertIn("Use --preprocess ts instead", p)
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(cli.validate_args(args("--weights", "random", "--model-size", "4b", "--preprocess", "hf", "--processor", d)), [])

    def test_flash_attention_refuses_fp32(self) -> None:
        self.assertIn("bf16 or fp16 only", " ".join(cli.validate_args(args("--model", "m", "--attention", "flash_attention_2", "--dtype", "fp32"))))

    def test_missing_dependency_message_names_all_three_and_the_pip_command(self) -> None:
        m = deps.missing_deps_message(["torch", "accelerate"], "/usr/bin/python3")
        for s in ("torch", "transformers", "accelerate", "pip install torch transformers accelerate", "/usr/bin/python3",
                  "flash-attn", "GEMMA_BENCH_PYTHON"):
            self.assertIn(s, m)

    def test_numpy_missing_is_a_dependency_problem_with_its_pip_command(self) -> None:
        from unittest import mock

        have = lambda name: name != "numpy"  # noqa: E731
        with mock.patch.object(deps, "missing_packages", return_value=[]), mock.patch.object(deps, "package_available", side_effect=have):
            f = deps.dependency_problem(args("--model", "m"))
        self.assertIsNotNone(f)
        self.assertEqual((f.code, f.exit_status), ("missing-deps", protocol.EXIT_MISSING_DEPS))
        self.assertIn("pip install numpy", str(f))

    def test_no_heavy_import_at_module_level(self) -> None:
        # Every module of the package, the torch engine's included, imports nothing heavy when imported: torch & co
        # load only when TorchEngine.load runs. A fresh interpreter, so no other test's imports count.
        code = ("import importlib, pkgutil, sys; import gemma_bench; "
                "[importlib.import_module(m.name) for m in pkgutil.walk_packages(gemma_bench.__path__, 'gemma_bench.')]; "
                "print(sorted(m for m in ('torch', 'transformers', 'accelerate', 'numpy', 'PIL') if m in sys.modules))")
        r = subprocess.run([sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "[]")


class ArchitectureTests(unittest.TestCase):
    def test_published_parameter_counts(self) -> None:
        # panscan-spec.md section 4.4: total parameters 4.300 B, 12.187 B, 27.432 B.
        for size, want in (("4b", 4.300e9), ("12b", 12.187e9), ("27b", 27.432e9)):
            got = count_params(gemma3.gemma3_config_dict(size))
            self.assertAlmostEqual(got / want, 1.0, delta=0.001, msg=f"{size}: {got}")

    def test_config_carries_the_gemma3_constants(self) -> None:
        c = gemma3.gemma3_config_dict("27b")
        self.assertEqual((c["image_token_index"], c["boi_token_index"], c["eoi_token_index"], c["mm_tokens_per_image"]),
                         (262144, 255999, 256000, 256))
        t = c["text_config"]
        self.assertEqual((t["vocab_size"], t["head_dim"], t["query_pre_attn_scalar"], t["sliding_window"]), (262208, 128, 168, 1024))
        self.assertEqual(t["rope_scaling"], {"rope_type": "linear", "factor": 8.0})
        self.assertEqual(t["layer_types"].count("full_attention"), 10)
        self.assertEqual([i for i, x in enumerate(gemma3.layer_types(34)) if x == "full_attention"], [5, 11, 17, 23, 29])
        self.assertEqual(c["vision_config"]["image_size"], 896)


class PromptTests(unittest.TestCase):
    def test_synthetic_prompt_has_the_processor_token_budget(self) -> None:
        base = len(gemma3.synthetic_input_ids(0)) - 260
        for k in range(1, 7):
            ids = gemma3.synthetic_input_ids(k)
            self.assertEqual(len(ids) - base, 276 + 261 * k, k)  # panscan-spec.md section 3.3
            self.assertEqual(gemma3.count_image_tokens(ids), 256 * (k + 1))
        gemma3.check_image_tokens(gemma3.synthetic_input_ids(3), 4)
        with self.assertRaises(ValueError):
            gemma3.check_image_tokens(gemma3.synthetic_input_ids(3), 3)

    def test_left_padding(self) -> None:
        ids, mask = gemma3.left_pad([[5, 6, 7], [8]], pad_id=0)
        self.assertEqual(ids, [[5, 6, 7], [0, 0, 8]])
        self.assertEqual(mask, [[1, 1, 1], [0, 0, 1]])


class DeviceMapTests(unittest.TestCase):
    def test_summary_groups_layers_per_device_with_physical_gpus(self) -> None:
        dm = {"model.vision_tower": 0, "model.multi_modal_projector": 0, "model.language_model.embed_tokens": 0,
              "lm_head": 0, "model.language_model.rotary_emb": 0}
        dm.update({f"model.language_model.layers.{i}": 0 if i < 29 else 1 for i in range(62)})
        dm["model.language_model.norm"] = 1
        s = device_map.summarize_device_map(dm, ["2", "3"])
        self.assertEqual(s[0], {"device": "cuda:0", "gpu": "2",
                                "modules": ["vision tower", "projector", "embed_tokens", "rotary_emb", "layers 0-28", "lm_head"]})
        self.assertEqual(s[1], {"device": "cuda:1", "gpu": "3", "modules": ["layers 29-61", "norm"]})

    def test_vision_encoder_layers_are_not_decoder_layers(self) -> None:
        s = device_map.summarize_device_map({"model.vision_tower.vision_model.encoder.layers.3": 0, "model.language_model.layers.0": 1})
        self.assertEqual(s[0]["modules"], ["vision tower"])
        self.assertEqual(s[1]["modules"], ["layers 0"])

    def test_device_for_takes_the_longest_prefix(self) -> None:
        dm = {"": 0, "model.language_model.layers.1": 1}
        self.assertEqual(device_map.device_for("model.language_model.layers.1.mlp.up_proj.weight", dm), 1)
        self.assertEqual(device_map.device_for("model.language_model.layers.10.mlp.up_proj.weight", dm), 0)
        self.assertEqual(device_map.compress_ranges([0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8")

    def test_physical_gpus_from_cuda_visible_devices(self) -> None:
        self.assertEqual(device_map.physical_gpus({"CUDA_VISIBLE_DEVICES": "4,5"}), ["4", "5"])
        self.assertEqual(device_map.physical_gpus({}), [])


@unittest.skipUnless(HAS_NUMPY, "numpy is not installed")
class BatchTests(unittest.TestCase):
    def engine(self, **over: Any) -> Any:
        a = args("--engine", "fake", "--fake-token-ms", "0", *sum(([f"--{k.replace('_', '-')}", str(v)] for k, v in over.items()), []))
        return FakeEngine(a)

    def pixel_file(self, entries: int, first: float) -> Dict[str, Any]:
        import numpy as np

        px = np.zeros((entries, 3, 896, 896), dtype="<f4")
        px.reshape(-1)[0] = first
        fd, path = tempfile.mkstemp(suffix=".f32")
        with os.fdopen(fd, "wb") as f:
            f.write(px.tobytes())
        return {"path": path, "shape": [entries, 3, 896, 896], "dtype": "float32"}

    def test_results_read_and_delete_the_pixel_files(self) -> None:
        e = self.engine()
        px = self.pixel_file(4, 1.0)
        msg = {"type": "batch", "batchId": 3, "requests": [
            {"id": 9, "maxNewTokens": 5, "inputIds": gemma3.synthetic_input_ids(3), "pixels": px},
            {"id": 10, "maxNewTokens": 5, "inputIds": gemma3.synthetic_input_ids(0), "pixels": {"path": "/nonexistent.f32", "shape": [1, 3, 896, 896]}},
        ]}
        out, broken = batch.handle_batch(e, msg, "ts")
        self.assertFalse(broken)
        self.assertFalse(os.path.exists(px["path"]))
        a, b = out["results"]
        self.assertTrue(a["ok"])
        self.assertEqual((a["crops"], a["imageTokens"], a["promptTokens"], a["outputTokens"]), (3, 1024, len(gemma3.synthetic_input_ids(3)), 5))
        self.assertEqual(a["tokenIds"][:4], [4, len(gemma3.synthetic_input_ids(3)), 1024, 255])
        self.assertEqual(len(a["tokenMs"]), 5)
        self.assertFalse(b["ok"])
        self.assertIn("FileNotFoundError", b["error"])
        self.assertIsInstance(out["recvTime"], float)

    def test_wrong_sizes_and_token_counts_fail_their_request(self) -> None:
        e = self.engine()
        px = self.pixel_file(2, 0.0)
        bad_shape = dict(px, shape=[3, 3, 896, 896])
        out, _ = batch.handle_batch(e, {"batchId": 0, "requests": [{"id": 1, "maxNewTokens": 2, "inputIds": gemma3.synthetic_input_ids(1), "pixels": bad_shape}]}, "ts")
        self.assertIn("expected", out["results"][0]["error"])
        self.assertFalse(os.path.exists(px["path"]))
        px = self.pixel_file(2, 0.0)
        out, _ = batch.handle_batch(e, {"batchId": 0, "requests": [{"id": 1, "maxNewTokens": 2, "inputIds": gemma3.synthetic_input_ids(3), "pixels": px}]}, "ts")
        self.assertIn("image tokens", out["results"][0]["error"])

    def test_an_out_of_memory_batch_fails_alone(self) -> None:
        e = self.engine(fake_oom_batches="1")
        req = lambda i: {"id": i, "maxNewTokens": 2, "inputIds": gemma3.synthetic_input_ids(0), "pixels": self.pixel_file(1, 0.0)}
        out, broken = batch.handle_batch(e, {"batchId": 0, "requests": [req(1), req(2)]}, "ts")
        self.assertTrue(out["oom"])
        self.assertFalse(broken)
        self.assertTrue(out["batchError"].startswith("CUDA out of memory: CUDA out of memory. Tried to allocate"))
        self.assertTrue(all(not r["ok"] for r in out["results"]))
        out, _ = batch.handle_batch(e, {"batchId": 1, "requests": [req(3)]}, "ts")
        self.assertTrue(out["results"][0]["ok"])

    def test_self_test_passes_through_the_batch_path(self) -> None:
        # self_test() only needs an engine: the fake one runs its printing and its JSON summary without torch.
        import contextlib
        import io
        import json

        a = args("--engine", "fake", "--fake-token-ms", "0", "--self-test", "--self-test-crops", "2",
                 "--self-test-batch", "2", "--max-new-tokens", "5")
        sink = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()) as said:
            rc = self_test.self_test(FakeEngine(a), protocol.ProtocolOut(sink), a)
        self.assertEqual(rc, 0)
        text = said.getvalue()
        self.assertIn("model: fake  0.000 B parameters  dtype bf16", text)
        self.assertIn("note: fake engine: no model is loaded (tests only)", text)
        self.assertIn("first pass: batch 2, 2 crops", text)
        self.assertIn("second pass: batch 2, 2 crops", text)
        summary = json.loads(sink.getvalue())
        self.assertEqual((summary["type"], summary["ok"]), ("self-test", True))
        self.assertEqual([p["outputTokens"] for p in summary["passes"]], [5, 5])
        self.assertEqual(summary["passes"][0]["promptTokens"], len(gemma3.synthetic_input_ids(2)))


if __name__ == "__main__":
    unittest.main()

"""Warm-up (python/gemma_bench/engines/warmup.py) with a stub generate(): every note a warm-up generate() returns
reaches the notes that go into the `ready` message (the TS side logs ready.notes as warnings), on the plain path, on
the compile path, and when compiling fails. Needs neither torch nor numpy.

Run: python3 -m unittest discover -s test/python -v
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import unittest
from typing import Any, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "python"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from gemma_bench.batch import GenOut, Prepared  # noqa: E402
from gemma_bench.engines.warmup import WARMUP_NEW_TOKENS, CompileState, warm_up  # noqa: E402

FALLBACK = ("could not build a StaticCache directly (RuntimeError: Inplace update to inference tensor outside "
            "InferenceMode is not allowed.); using generate(cache_implementation='static')")


class GenConfig:
    disable_compile = False


class StubGenerate:
    """generate() that returns scripted notes per call (and can fail on a given call, as a compile error would)."""

    def __init__(self, notes_per_call: List[List[str]], fail_call: Optional[int] = None) -> None:
        self.notes_per_call = notes_per_call
        self.fail_call = fail_call
        self.calls: List[int] = []

    def __call__(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        self.calls.append(len(items))
        assert max_new == WARMUP_NEW_TOKENS
        n = len(self.calls)
        if n == self.fail_call:
            raise RuntimeError("backend='inductor' raised: simulated compile failure")
        notes = self.notes_per_call[n - 1] if n <= len(self.notes_per_call) else []
        return GenOut(token_ids=[[0] * max_new for _ in items], token_ms=[1.0] * max_new, start_ms=0.0,
                      vision_ms=None, notes=list(notes))


def item() -> Prepared:
    return Prepared(id=0, max_new=WARMUP_NEW_TOKENS, input_ids=[1], pixel_values=None, entries=1, preprocess_ms=None,
                    input_ms=0.0)


def never_oom(e: BaseException) -> bool:
    return False


def warm(gen: StubGenerate, sizes: List[int], compiling: bool, graphs: List[Optional[int]]) -> Any:
    counts = iter(graphs)
    state = CompileState(compiling, GenConfig())
    out = warm_up(gen, sizes, state, never_oom, item=item, graph_count=lambda: next(counts))
    return out, state


class WarmUpNotesTests(unittest.TestCase):
    def test_notes_of_an_uncompiled_warm_up_reach_ready(self) -> None:
        gen = StubGenerate([["generate produced 3 tokens and 4 time stamps for 4 asked"], [], ["odd"]])
        out, _ = warm(gen, [1, 2, 4], False, [None, None])
        self.assertEqual(gen.calls, [1, 2, 4])
        self.assertEqual(out["notes"], ["warm-up (batch 1): generate produced 3 tokens and 4 time stamps for 4 asked",
                                        "warm-up (batch 4): odd"])
        self.assertIsNone(out["compileS"])

    def test_a_static_cache_fallback_in_the_second_pass_reaches_ready(self) -> None:
        # The first pass creates (and compiles for) a cache; the second reuses it. A fallback there is the note that
        # used to vanish, leaving only a compile time of about 0 to show for it.
        created = "static KV cache for batch 1 x 4096 tokens created: the decode step is compiled for this shape now"
        gen = StubGenerate([[created], [FALLBACK]])
        out, state = warm(gen, [1], True, [10, 12])
        self.assertEqual(gen.calls, [1, 1])
        self.assertEqual(out["notes"], [f"warm-up (batch 1): {created}", f"warm-up (batch 1): {FALLBACK}"])
        self.assertEqual(out["compile"], {"enabled": True, "ok": True, "error": None, "detected": True})
        self.assertIsNotNone(out["compileS"])
        self.assertTrue(state.enabled)

    def test_notes_survive_a_failed_compile_and_the_rerun(self) -> None:
        gen = StubGenerate([["first pass note"], [], ["rerun note"]], fail_call=2)
        with contextlib.redirect_stderr(io.StringIO()) as err:  # the worker prints the compile traceback there
            out, state = warm(gen, [1], True, [0, 0])
        self.assertIn("simulated compile failure", err.getvalue())
        self.assertFalse(state.enabled)
        self.assertTrue(state.generation_config.disable_compile)
        self.assertEqual(out["notes"][0], "warm-up (batch 1): first pass note")
        self.assertTrue(out["notes"][1].startswith("torch.compile of the static-cache decode step failed, continuing "
                                                   "without it: RuntimeError: backend='inductor' raised"))
        self.assertEqual(out["notes"][2], "warm-up (batch 1): rerun note")
        self.assertEqual(out["compile"]["ok"], False)

    def test_the_same_note_is_given_once_and_undetected_compilation_is_said(self) -> None:
        gen = StubGenerate([["same"], ["same"]])
        out, _ = warm(gen, [1], True, [5, 5])
        self.assertEqual(out["notes"][0], "warm-up (batch 1): same")
        self.assertEqual(len(out["notes"]), 2)
        self.assertIn("transformers did not compile the decode step", out["notes"][1])
        self.assertIsNone(out["compileS"])
        self.assertIs(out["compile"]["detected"], False)

class WarmUpExpectedNotesTests(unittest.TestCase):
    def test_a_new_static_cache_shape_is_expected_while_warming_up(self) -> None:
        from gemma_bench.engines.kv_cache import NewShapeNote
        shape = NewShapeNote("static KV cache for batch 1 x 4096 tokens created: the decode step is compiled for this shape now")
        gen = StubGenerate([[shape, "odd"], [], [NewShapeNote("static KV cache for batch 2 x 4096 tokens created")]])
        out, _ = warm(gen, [1, 2], False, [None, None])
        self.assertEqual(out["notes"], ["warm-up (batch 1): odd"])


if __name__ == "__main__":
    unittest.main()

"""Peak GPU memory per micro-batch (issue 11, bug 4): engines/memory.py against a stand-in for torch.cuda (runs
everywhere), the batch path putting the engine's peaks in the result message, and the self-test printing them.
The real counters (torch.cuda.reset_peak_memory_stats / max_memory_allocated) are exercised by scripts/gpu-smoke.sh.

Run: python3 -m unittest discover -s test/python -v
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest
import unittest.mock
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "python"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from gemma_bench import batch, cli, gemma3, protocol, self_test  # noqa: E402
from gemma_bench.engines import memory  # noqa: E402
from gemma_bench.engines.fake import FakeEngine  # noqa: E402

HAS_NUMPY = importlib.util.find_spec("numpy") is not None
MIB = 2 ** 20


class FakeCuda:
    """torch.cuda's allocator counters for `n` devices: allocations move the current and peak values."""

    def __init__(self, n: int) -> None:
        self.current = [0] * n
        self.peak = [0] * n
        self.reserved_peak = [0] * n
        self.calls: List[str] = []

    def device_count(self) -> int:
        return len(self.current)

    def reset_peak_memory_stats(self, i: int) -> None:
        self.calls.append(f"reset {i}")
        self.peak[i] = self.current[i]
        self.reserved_peak[i] = self.current[i]

    def max_memory_allocated(self, i: int) -> int:
        return self.peak[i]

    def max_memory_reserved(self, i: int) -> int:
        return self.reserved_peak[i]

    def alloc(self, i: int, nbytes: int) -> None:
        self.current[i] += nbytes
        self.peak[i] = max(self.peak[i], self.current[i])
        self.reserved_peak[i] = max(self.reserved_peak[i], self.current[i] + 512 * MIB)


class FakeTorch:
    def __init__(self, n: int) -> None:
        self.cuda = FakeCuda(n)


class PeakMemoryTests(unittest.TestCase):
    def test_each_batch_reports_its_own_peak_per_device(self) -> None:
        t = FakeTorch(2)
        t.cuda.alloc(0, 20_000 * MIB)  # weights
        t.cuda.alloc(1, 18_000 * MIB)
        memory.reset_peaks(t)
        t.cuda.alloc(0, 3_000 * MIB)  # a big batch's activations ...
        t.cuda.alloc(0, -3_000 * MIB)  # ... freed again
        first = memory.read_peaks(t, ["2", "3"])
        self.assertEqual(first, [
            {"ordinal": 0, "gpu": "2", "allocatedMiB": 23_000.0, "reservedMiB": 23_512.0},
            {"ordinal": 1, "gpu": "3", "allocatedMiB": 18_000.0, "reservedMiB": 18_000.0},
        ])
        memory.reset_peaks(t)  # the next, smaller batch does not inherit the first one's peak
        t.cuda.alloc(0, 1_000 * MIB)
        second = memory.read_peaks(t, ["2", "3"])
        self.assertEqual(second[0]["allocatedMiB"], 21_000.0)
        self.assertEqual(t.cuda.calls, ["reset 0", "reset 1", "reset 0", "reset 1"])

    def test_a_device_beyond_cuda_visible_devices_has_no_gpu_name(self) -> None:
        self.assertEqual(memory.read_peaks(FakeTorch(1), [])[0]["gpu"], None)

    def test_no_device_no_entry(self) -> None:
        self.assertEqual(memory.read_peaks(FakeTorch(0), ["0"]), [])


def args(*argv: str) -> Any:
    return cli.build_parser().parse_args(["--weights", "random", "--model-size", "4b", *argv])


@unittest.skipUnless(HAS_NUMPY, "numpy is not installed")
class BatchPeakTests(unittest.TestCase):
    def request(self, rid: int, entries: int) -> Dict[str, Any]:
        import numpy as np

        fd, path = tempfile.mkstemp(suffix=".f32")
        with os.fdopen(fd, "wb") as f:
            f.write(np.zeros((entries, 3, 896, 896), dtype="<f4").tobytes())
        return {"id": rid, "maxNewTokens": 2, "inputIds": gemma3.synthetic_input_ids(entries - 1),
                "pixels": {"path": path, "shape": [entries, 3, 896, 896], "dtype": "float32"}}

    def test_the_result_message_carries_the_batch_peak(self) -> None:
        e = FakeEngine(args("--engine", "fake", "--fake-token-ms", "0", "--fake-peak-mib", "1000"))
        with unittest.mock.patch.dict(os.environ, {"CUDA_VISIBLE_DEVICES": "4,5"}):
            out, _ = batch.handle_batch(e, {"batchId": 0, "requests": [self.request(1, 4), self.request(2, 1)]}, "ts")
        self.assertEqual(out["peakMemory"], [
            {"ordinal": 0, "gpu": "4", "allocatedMiB": 1005.0, "reservedMiB": 1250.0},
            {"ordinal": 1, "gpu": "5", "allocatedMiB": 1005.0, "reservedMiB": 1250.0},
        ])
        json.dumps(out, allow_nan=False)

    def test_no_peak_no_field_and_an_oom_batch_has_none(self) -> None:
        plain = FakeEngine(args("--engine", "fake", "--fake-token-ms", "0"))
        out, _ = batch.handle_batch(plain, {"batchId": 0, "requests": [self.request(1, 1)]}, "ts")
        self.assertNotIn("peakMemory", out)  # protocol 1 stays as it was for an engine that cannot measure
        oom = FakeEngine(args("--engine", "fake", "--fake-token-ms", "0", "--fake-oom-batches", "1", "--fake-peak-mib", "10"))
        out, _ = batch.handle_batch(oom, {"batchId": 0, "requests": [self.request(1, 1)]}, "ts")
        self.assertTrue(out["oom"])
        self.assertNotIn("peakMemory", out)

    def test_the_self_test_prints_the_peaks(self) -> None:
        a = args("--engine", "fake", "--fake-token-ms", "0", "--fake-peak-mib", "2048", "--self-test", "--self-test-crops", "1",
                 "--max-new-tokens", "3")
        sink = io.StringIO()
        with unittest.mock.patch.dict(os.environ, {"CUDA_VISIBLE_DEVICES": "0"}), contextlib.redirect_stdout(io.StringIO()) as said:
            self.assertEqual(self_test.self_test(FakeEngine(a), protocol.ProtocolOut(sink), a), 0)
        self.assertIn("peak memory cuda:0 (GPU 0): 2.00 GiB allocated, 2.50 GiB reserved", said.getvalue())
        summary = json.loads(sink.getvalue())
        self.assertEqual(summary["passes"][0]["peakMemory"][0]["allocatedMiB"], 2050.0)


if __name__ == "__main__":
    unittest.main()

"""The entry script python/gemma_bench_worker.py itself, run as gemma-bench runs it (by path, in a subprocess): from
any working directory, and on an interpreter where torch & co cannot be imported, where it must give one clear
missing-package message (exit status 3, one fatal protocol line) and no traceback. The latter is checked twice: with
the heavy packages blocked by an import hook (so it holds on a machine that has them), and, where torch really is
absent, with the plain interpreter.

Run: python3 -m unittest discover -s test/python -v
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.abspath(os.path.join(HERE, "..", "..", "python", "gemma_bench_worker.py"))
HEAVY = ("torch", "transformers", "accelerate", "numpy", "PIL", "flash_attn")
ENV = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")

# Runs the worker script with every heavy package unimportable, as on a bare interpreter: a meta-path finder that
# refuses them comes first, so find_spec() reports them missing and an import of one fails.
BARE = r"""
import runpy, sys
HEAVY = set(sys.argv[2].split(","))
class Bare:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Bare())
worker = sys.argv[1]
sys.argv = [worker] + sys.argv[3:]
runpy.run_path(worker, run_name="__main__")
"""


def run(args: List[str], cwd: str, bare: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", BARE, WORKER, ",".join(HEAVY), *args] if bare else [sys.executable, WORKER, *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60, env=ENV, stdin=subprocess.DEVNULL)


class EntryScriptTests(unittest.TestCase):
    def setUp(self) -> None:
        self.cwd = tempfile.mkdtemp(prefix="gemma-bench-cwd-")  # not the repository, not python/

    def tearDown(self) -> None:
        os.rmdir(self.cwd)

    def assert_missing_deps(self, r: subprocess.CompletedProcess) -> None:
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertRegex(r.stderr, r"needs the Python packages torch, transformers and accelerate; missing from .*: "
                                   r"torch, transformers, accelerate\. Install them with: pip install torch transformers "
                                   r"accelerate")
        lines = r.stdout.strip().split("\n")
        self.assertEqual(len(lines), 1, "stdout carries exactly one protocol line")
        fatal = json.loads(lines[0])
        self.assertEqual((fatal["type"], fatal["code"]), ("fatal", "missing-deps"))

    def test_help_from_another_directory(self) -> None:
        r = run(["--help"], self.cwd)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("usage: gemma_bench_worker.py", r.stdout)
        self.assertIn("--self-test", r.stdout)
        self.assertNotIn("--fake-token-ms", r.stdout)  # the test seams stay hidden

    def test_bad_arguments_exit_2_before_any_dependency_check(self) -> None:
        r = run(["--weights", "random"], self.cwd, bare=True)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--weights random needs --model-size 4b, 12b or 27b", r.stderr)
        self.assertEqual(json.loads(r.stdout)["code"], "bad-args")

    def test_without_heavy_packages_the_self_test_says_what_to_install(self) -> None:
        # Not in protocol mode: the fatal goes to stderr only and stdout stays for the person.
        r = run(["--weights", "random", "--model-size", "27b", "--self-test"], self.cwd, bare=True)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("pip install torch transformers accelerate", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_without_heavy_packages_the_protocol_gets_one_fatal_line(self) -> None:
        self.assert_missing_deps(run(["--weights", "random", "--model-size", "27b"], self.cwd, bare=True))

    def test_without_heavy_packages_probe_says_so(self) -> None:
        # The probe answers (exit 0) with what is there and the problem, pip command included: gemma-bench doctor
        # shows the versions that are installed, and the backend refuses to start on any problem.
        r = run(["--probe"], self.cwd, bare=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        msg = json.loads(r.stdout)
        self.assertEqual(msg["type"], "probe")
        self.assertIsNone(msg["packages"]["torch"])
        self.assertEqual(len(msg["problems"]), 1)
        self.assertIn("pip install torch transformers accelerate", msg["problems"][0])

    @unittest.skipIf(importlib.util.find_spec("torch") is not None, f"torch is installed in {sys.executable}")
    def test_plain_interpreter_without_torch(self) -> None:
        self.assert_missing_deps(run(["--weights", "random", "--model-size", "27b"], self.cwd))

    @unittest.skipIf(importlib.util.find_spec("numpy") is None, f"numpy is not installed in {sys.executable}")
    def test_fake_engine_protocol_session(self) -> None:
        msgs = [{"type": "ping", "t": 7}, {"type": "shutdown"}]
        r = subprocess.run([sys.executable, WORKER, "--engine", "fake", "--replica", "2"], cwd=self.cwd,
                           input="".join(json.dumps(m) + "\n" for m in msgs), capture_output=True, text=True,
                           timeout=60, env=ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([m["type"] for m in out], ["ready", "pong"])
        self.assertEqual((out[0]["protocol"], out[0]["replica"]), (1, 2))
        self.assertEqual(out[0]["notes"], ["fake engine: no model is loaded (tests only)"])
        self.assertEqual(out[1]["t"], 7)


if __name__ == "__main__":
    unittest.main()

"""The protocol stream: protocol version, exit statuses, WorkerFatal, and JSON lines in (stdin) and out (stdout).

stdout carries protocol lines only. At start-up the real stdout file descriptor is kept for the protocol and fd 1
is pointed at stderr, so a stray print() or a C library writing to stdout can never corrupt the stream. The message
shapes are documented in src/engine/backends/transformers/protocol.ts, which is the reference.
"""
from __future__ import annotations

import json
import os
import sys
from typing import IO, Any, Dict, Iterator

PROTOCOL_VERSION = 1

# Exit codes (the TS side maps them to messages; a fatal message on stdout precedes each non-zero exit).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_MISSING_DEPS = 3
EXIT_LOAD_FAILED = 4
EXIT_NO_GPU = 5
EXIT_CUDA_BROKEN = 6


class WorkerFatal(Exception):
    """A start-up problem the user must fix; carries the protocol code and the exit status."""

    def __init__(self, code: str, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.exit_status = exit_status


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


def read_messages(stdin: IO[bytes], out: ProtocolOut) -> Iterator[Any]:
    """Each decoded JSON line from the parent, until EOF (the parent closed our stdin, or died). Blank lines are
    skipped; an unreadable one is reported as a warning and skipped."""
    while True:
        raw = stdin.readline()
        if not raw:
            return
        line = raw.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            out.log("warn", f"unreadable message ignored: {line[:120]!r}")
            continue
        yield msg

"""Protocol mode: load the engine, send `ready`, then answer ping / batch / shutdown until stdin closes. A batch
that leaves the CUDA context broken is reported, followed by a fatal message, and the worker exits (status 6)."""
from __future__ import annotations

import argparse
import os
import time
from typing import IO

from .batch import handle_batch
from .engines.base import Engine
from .protocol import EXIT_CUDA_BROKEN, EXIT_OK, PROTOCOL_VERSION, ProtocolOut, WorkerFatal, read_messages


def serve(engine: Engine, out: ProtocolOut, a: argparse.Namespace, stdin: IO[bytes]) -> int:
    ready = engine.load()
    ready.update({"type": "ready", "protocol": PROTOCOL_VERSION, "replica": a.replica, "pid": os.getpid(),
                  "time": time.time()})
    out.send(ready)
    for msg in read_messages(stdin, out):
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
    return EXIT_OK  # the parent closed our stdin (or died): nothing more will come

"""gemma-bench transformers worker, as a package; python/gemma_bench_worker.py is its entry point.

Module map (src/engine/backends/transformers/protocol.ts is the reference for every message):

    cli.py            argparse, argument checks, main(): which mode runs, exit statuses
    protocol.py       the protocol stream (kept stdout fd, JSON lines in and out), exit codes, WorkerFatal
    deps.py           the start-up dependency checks (find_spec only: nothing heavy is imported)
    probe.py          --probe: the environment as one JSON line
    gemma3.py         the published Gemma 3 architecture, token ids and prompt layout (pure)
    device_map.py     device-map helpers: which module sits on which GPU (pure)
    util.py           small pure helpers (first_line, percentile, parse_int_list)
    batch.py          one micro-batch: request -> Prepared -> engine.generate -> result message
    serve.py          the protocol loop (ready, ping/pong, batch, shutdown)
    self_test.py      --self-test: one synthetic request, printed for a person
    engines/          the model runners: base (interface), fake (tests), torch_engine and its collaborators

Everything the entry point imports before an engine loads its model is stdlib-only, so a machine without torch
gets one clear message instead of a traceback (test/python/test_entry.py holds that line).
"""

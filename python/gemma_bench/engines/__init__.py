"""Model runners behind the protocol loop.

    base.py            the Engine interface (load, prepare, generate, OOM / broken-context classification)
    fake.py            FakeEngine: no model, honours the protocol (tests drive the real script with it)
    torch_engine.py    TorchEngine: Gemma3ForConditionalGeneration on this replica's GPUs, composed of
      torch_runtime.py   importing torch & co, version / GPU / dtype checks, multi-GPU synchronize
      model_loading.py   from_pretrained, the processor, generation config, model accessors
      random_weights.py  the published architecture with random weights, built on meta and filled on the GPUs
      hf_preprocess.py   --preprocess hf: PIL + Gemma3Processor
      kv_cache.py        dynamic and (kept, reused) static KV caches
      generation.py      one generate() call with the token clock and the vision timer
      warmup.py          warm-up passes and the torch.compile bookkeeping
      report.py          the ready message: model, devices, GPU memory, versions, timings

Nothing here imports torch at module level: torch is imported when TorchEngine.load runs.
"""

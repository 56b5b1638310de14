#!/usr/bin/env python3
"""Cross-check gemma-bench's tiny Gemma 3 ONNX graphs against Hugging Face transformers.

Needs a machine with torch, transformers (>= 4.50; current naming needs >= 4.52), safetensors, numpy and
onnxruntime (CPU is enough; a GPU just makes the transformers side faster). Nothing is downloaded: the
model is the directory gemma-bench wrote.

1. Build the model with the safetensors file:
       gemma-bench make-model --hf-weights --out DIR        (or buildTinyModel(DIR, {hfWeights: true}))
2. Run:
       python3 python/verify_tiny_model.py --model-dir DIR [--device cuda] [--tolerance 1e-3]

What it does:
  * loads DIR with Gemma3ForConditionalGeneration.from_pretrained (float32, eager attention) and checks
    that every parameter equals the tensor in model.safetensors (lm_head must equal embed_tokens: tied);
  * image features: model.get_image_features(pixel_values) vs vision_encoder.onnx, n = 2;
  * text-only logits, batch 2 with left padding, every real position: transformers vs
    embed_tokens.onnx + decoder_model_merged.onnx (attention is causal in both);
  * multimodal logits with token_type_ids omitted (plain causal attention over image tokens, which is what
    the ONNX layout computes) over a prompt longer than the sliding window; and, for information only, the
    difference HF's bidirectional image-block attention (token_type_ids given) makes;
  * greedy generation of 8 tokens: transformers' generate() vs an onnxruntime loop with the KV cache.
Prints each max abs diff and exits 1 if any compared quantity exceeds --tolerance (or tokens differ).
"""

import argparse
import json
import os
import re
import sys


def dtype_keyword(transformers_version):
    """from_pretrained's precision argument: `dtype` since transformers 4.56, which deprecated `torch_dtype`."""
    nums = [int(x) for x in re.findall(r"\d+", transformers_version.split("+")[0])[:2]]
    return "dtype" if tuple(nums) >= (4, 56) else "torch_dtype"

import numpy as np


def left_pad(prompts):
    n = max(len(p) for p in prompts)
    ids = np.array([[0] * (n - len(p)) + p for p in prompts], dtype=np.int64)
    mask = np.array([[0] * (n - len(p)) + [1] * len(p) for p in prompts], dtype=np.int64)
    pos = np.where(mask == 1, np.cumsum(mask, axis=1) - 1, 1).astype(np.int64)
    return ids, mask, pos


def test_tokens(n, salt):
    return [3 + ((i * 7919 + salt * 104729) % 255_990) for i in range(n)]


class OnnxModel:
    def __init__(self, model_dir, text_config):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        self.vision = ort.InferenceSession(os.path.join(model_dir, "vision_encoder.onnx"), opts, providers=["CPUExecutionProvider"])
        self.embed = ort.InferenceSession(os.path.join(model_dir, "embed_tokens.onnx"), opts, providers=["CPUExecutionProvider"])
        self.decoder = ort.InferenceSession(os.path.join(model_dir, "decoder_model_merged.onnx"), opts, providers=["CPUExecutionProvider"])
        self.layers = text_config["num_hidden_layers"]
        self.kv = text_config["num_key_value_heads"]
        self.hd = text_config["head_dim"]

    def image_features(self, pixels):
        return self.vision.run(["image_features"], {"pixel_values": pixels.astype(np.float32)})[0]

    def embeds(self, ids):
        return self.embed.run(["inputs_embeds"], {"input_ids": ids.astype(np.int64)})[0]

    def decode(self, embeds, mask, pos, past=None, keep=0):
        b = embeds.shape[0]
        feeds = {
            "inputs_embeds": embeds.astype(np.float32),
            "attention_mask": mask.astype(np.int64),
            "position_ids": pos.astype(np.int64),
            "num_logits_to_keep": np.array(keep, dtype=np.int64),
        }
        for i in range(self.layers):
            for kv in ("key", "value"):
                feeds[f"past_key_values.{i}.{kv}"] = past[f"present.{i}.{kv}"] if past else np.zeros((b, self.kv, 0, self.hd), np.float32)
        names = [o.name for o in self.decoder.get_outputs()]
        return dict(zip(names, self.decoder.run(names, feeds)))

    def greedy(self, prompt, steps):
        ids = np.array([prompt], dtype=np.int64)
        mask = np.ones_like(ids)
        pos = np.arange(len(prompt), dtype=np.int64)[None]
        past, out = None, []
        for _ in range(steps):
            r = self.decode(self.embeds(ids), mask, pos, past, keep=1)
            tok = int(r["logits"][0, -1].argmax())
            out.append(tok)
            past = r
            ids = np.array([[tok]], dtype=np.int64)
            mask = np.concatenate([mask, [[1]]], axis=1)
            pos = pos[:, -1:] + 1
        return out


def main():
    ap = argparse.ArgumentParser(description="Compare gemma-bench's tiny Gemma 3 ONNX graphs with transformers.")
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    args = ap.parse_args()

    import torch
    import transformers
    from safetensors.numpy import load_file
    from transformers import Gemma3ForConditionalGeneration

    # fp32 means fp32: no TF32 in matmuls or in the patch-embedding convolution.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"

    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    tc = cfg["text_config"]
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, device {args.device}")
    print(f"model: {cfg.get('gemma_bench', {}).get('label', args.model_dir)}")

    model = Gemma3ForConditionalGeneration.from_pretrained(args.model_dir, attn_implementation="eager",
                                                           **{dtype_keyword(transformers.__version__): torch.float32})
    model = model.to(args.device).eval()
    failures = []

    # ---- weights -------------------------------------------------------------------------------------
    file_tensors = load_file(os.path.join(args.model_dir, "model.safetensors"))
    legacy = {
        "model.language_model.": "language_model.model.",
        "model.vision_tower.": "vision_tower.",
        "model.multi_modal_projector.": "multi_modal_projector.",
        "lm_head.": "language_model.lm_head.",
    }
    state = model.state_dict()
    worst_w = 0.0
    for name, tensor in state.items():
        src = file_tensors.get(name)
        if src is None:  # older transformers: old names in the module tree
            for new, old in legacy.items():
                if name.startswith(old) and new + name[len(old):] in file_tensors:
                    src = file_tensors[new + name[len(old):]]
        if src is None:
            failures.append(f"parameter {name} not in model.safetensors")
            continue
        worst_w = max(worst_w, float(np.abs(tensor.detach().cpu().numpy() - src).max()))
    print(f"weights: {len(state)} parameters, max abs diff vs file {worst_w:.3e}")
    if worst_w != 0.0:
        failures.append(f"loaded weights differ from the file by {worst_w}")
    emb = model.get_input_embeddings().weight
    if not torch.equal(model.lm_head.weight, emb):
        failures.append("lm_head.weight is not equal to embed_tokens.weight (not tied)")

    onnx = OnnxModel(args.model_dir, tc)
    dev = args.device
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(dev)

    def check(label, diff):
        print(f"{label}: max abs diff {diff:.3e}")
        if not diff <= args.tolerance:
            failures.append(f"{label}: {diff} > {args.tolerance}")

    # ---- image features ------------------------------------------------------------------------------
    size = cfg["vision_config"]["image_size"]
    rng = np.random.default_rng(0)
    pixels = np.clip(rng.standard_normal((2, 3, size, size)), -1, 1).astype(np.float32)
    with torch.no_grad():
        hf_feats = model.get_image_features(t(pixels))
        if not torch.is_tensor(hf_feats):  # some versions return a ModelOutput
            hf_feats = getattr(hf_feats, "pooler_output", None) if getattr(hf_feats, "pooler_output", None) is not None else hf_feats[0]
        hf_feats = hf_feats.reshape(2, -1, tc["hidden_size"]).float().cpu().numpy()
    ox_feats = onnx.image_features(pixels)
    check("image_features (n=2)", float(np.abs(hf_feats - ox_feats).max()))

    # ---- text only, left padded ----------------------------------------------------------------------
    ids, mask, pos = left_pad([test_tokens(5, 21), test_tokens(12, 22)])
    with torch.no_grad():
        hf = model(input_ids=t(ids), attention_mask=t(mask), position_ids=t(pos), use_cache=False).logits.float().cpu().numpy()
    ox = onnx.decode(onnx.embeds(ids), mask, pos)["logits"]
    real = mask.astype(bool)
    check("text logits, batch 2 left-padded (real positions)", float(np.abs(hf[real] - ox[real]).max()))

    # ---- multimodal, past the sliding window ---------------------------------------------------------
    image_token, boi, eoi = cfg["image_token_index"], cfg["boi_token_index"], cfg["eoi_token_index"]
    block = [boi] + [image_token] * cfg["mm_tokens_per_image"] + [eoi]
    prompt = [2] + test_tokens(10, 23) + block + [108] + block + test_tokens(20, 24)
    mm_ids = np.array([prompt], dtype=np.int64)
    mm_mask = np.ones_like(mm_ids)
    mm_pos = np.arange(len(prompt), dtype=np.int64)[None]
    with torch.no_grad():
        hf_causal = model(input_ids=t(mm_ids), pixel_values=t(pixels), attention_mask=t(mm_mask), position_ids=t(mm_pos), use_cache=False).logits.float().cpu().numpy()
        tti = (mm_ids == image_token).astype(np.int64)
        hf_bidir = model(input_ids=t(mm_ids), pixel_values=t(pixels), attention_mask=t(mm_mask), position_ids=t(mm_pos), token_type_ids=t(tti), use_cache=False).logits.float().cpu().numpy()
    embeds = onnx.embeds(mm_ids)
    embeds[mm_ids == image_token] = ox_feats.reshape(-1, ox_feats.shape[-1])
    ox_mm = onnx.decode(embeds, mm_mask, mm_pos)["logits"]
    text_positions = mm_ids[0] != image_token
    check(f"multimodal logits, {len(prompt)} tokens, causal image attention", float(np.abs(hf_causal - ox_mm).max()))
    print(
        "info: HF bidirectional image blocks vs causal (the ONNX layout), max abs diff over text positions: "
        f"{float(np.abs(hf_bidir[0, text_positions] - ox_mm[0, text_positions]).max()):.3e} (expected to be nonzero)"
    )

    # ---- greedy generation with the cache ------------------------------------------------------------
    prompt = test_tokens(40, 31)
    with torch.no_grad():
        gen = model.generate(input_ids=t(np.array([prompt])), attention_mask=t(np.ones((1, len(prompt)), np.int64)), max_new_tokens=8, do_sample=False)
    hf_tokens = gen[0, len(prompt):].tolist()
    ox_tokens = onnx.greedy(prompt, 8)
    print(f"greedy 8 tokens: transformers {hf_tokens}, onnxruntime {ox_tokens}")
    if hf_tokens != ox_tokens:
        failures.append("greedy tokens differ")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("OK: onnxruntime graphs match transformers")


if __name__ == "__main__":
    main()

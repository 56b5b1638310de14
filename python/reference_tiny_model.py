#!/usr/bin/env python3
"""Plain-numpy Gemma 3 (vision + text) forward pass, an independent reference for gemma-bench's ONNX graphs.

Written from Hugging Face transformers' modeling code (models/siglip/modeling_siglip.py and
models/gemma3/modeling_gemma3.py, eager attention path), not from gemma-bench's TypeScript graph code. It
reads config.json and model.safetensors (transformers' parameter names) from a model directory written by
`gemma-bench make-model --hf-weights` (or buildTinyModel(dir, {hfWeights: true})), and computes in float32.

Usage:
    python3 reference_tiny_model.py --model-dir DIR --request request.json --out-dir OUT

request.json (every part optional):
    {
      "vision": {"pixels_file": "px.f32", "num_images": 2},      # raw little-endian float32 [n,3,896,896]
      "texts": [{                                                # one forward pass each
        "input_ids": [[...], ...],                               # [b, s]; image tokens (262144) take the image
                                                                 # features in order (needs "vision")
        "attention_mask": [[...], ...],                          # [b, s], 1 = attend, 0 = padding; default all 1
        "position_ids": [[...], ...],                            # [b, s]; default 0..s-1 per row
        "image_attention": "causal" | "bidirectional",           # causal = the ONNX exports' behaviour (default);
                                                                 # bidirectional = HF PyTorch (each image block)
        "logits_to_keep": 0                                      # 0 = all positions, k = last k
      }]
    }

Writes OUT/image_features.f32 ([n, 256, text_hidden]) and OUT/logits.{i}.f32 ([b, kept, vocab]) per text
request as raw little-endian float32, and prints a JSON summary with their files and shapes to stdout.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32
MASK_MIN = np.finfo(np.float32).min  # HF's additive mask value


# ---- loading ---------------------------------------------------------------------------------------------

def load_safetensors(path):
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            raise ValueError(f"{name}: only F32 supported, got {meta['dtype']}")
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=start).reshape(meta["shape"])
    return tensors


class Weights:
    """Current transformers naming; also accepts the older language_model.model.* / vision_tower.* names."""

    LEGACY = [
        ("model.language_model.", "language_model.model."),
        ("model.vision_tower.", "vision_tower."),
        ("model.multi_modal_projector.", "multi_modal_projector."),
        ("lm_head.", "language_model.lm_head."),
    ]

    def __init__(self, tensors):
        self.t = tensors

    def __call__(self, name):
        if name in self.t:
            return self.t[name]
        for new, old in self.LEGACY:
            if name.startswith(new) and old + name[len(new):] in self.t:
                return self.t[old + name[len(new):]]
        raise KeyError(name)


# ---- shared pieces ---------------------------------------------------------------------------------------

def gelu_tanh(x):
    # ACT2FN["gelu_pytorch_tanh"]: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return (F32(0.5) * x * (F32(1.0) + np.tanh(F32(math.sqrt(2.0 / math.pi)) * (x + F32(0.044715) * x * x * x)))).astype(F32)


def linear(x, w, b=None):
    y = x @ w.T
    return y + b if b is not None else y


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + F32(eps)) * w + b).astype(F32)


def gemma_rms_norm(x, w, eps):
    # Gemma3RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w)
    normed = x * (F32(1.0) / np.sqrt((x * x).mean(-1, keepdims=True) + F32(eps)))
    return (normed * (F32(1.0) + w)).astype(F32)


def softmax(x):
    m = x.max(-1, keepdims=True)
    e = np.exp(x - m)
    return (e / e.sum(-1, keepdims=True)).astype(F32)


# ---- vision: SiglipVisionTransformer + Gemma3MultiModalProjector -----------------------------------------

def vision_forward(cfg, W, pixels):
    vc = cfg["vision_config"]
    d, heads, patch, size = vc["hidden_size"], vc["num_attention_heads"], vc["patch_size"], vc["image_size"]
    eps = vc["layer_norm_eps"]
    hd = d // heads
    n = pixels.shape[0]
    side = size // patch
    p = "model.vision_tower.vision_model."

    # SiglipVisionEmbeddings: Conv2d(k=stride=patch, valid) as a matmul over unfolded patches.
    patches = pixels.reshape(n, 3, side, patch, side, patch).transpose(0, 2, 4, 1, 3, 5).reshape(n, side * side, 3 * patch * patch)
    conv_w = W(p + "embeddings.patch_embedding.weight").reshape(d, -1)
    x = patches @ conv_w.T + W(p + "embeddings.patch_embedding.bias")
    x = (x + W(p + "embeddings.position_embedding.weight")[None]).astype(F32)

    for i in range(vc["num_hidden_layers"]):
        l = f"{p}encoder.layers.{i}."
        residual = x
        h = layer_norm(x, W(l + "layer_norm1.weight"), W(l + "layer_norm1.bias"), eps)
        q = linear(h, W(l + "self_attn.q_proj.weight"), W(l + "self_attn.q_proj.bias")).reshape(n, -1, heads, hd).transpose(0, 2, 1, 3)
        k = linear(h, W(l + "self_attn.k_proj.weight"), W(l + "self_attn.k_proj.bias")).reshape(n, -1, heads, hd).transpose(0, 2, 1, 3)
        v = linear(h, W(l + "self_attn.v_proj.weight"), W(l + "self_attn.v_proj.bias")).reshape(n, -1, heads, hd).transpose(0, 2, 1, 3)
        attn = softmax((q @ k.transpose(0, 1, 3, 2)) * F32(hd ** -0.5))  # SiglipAttention.scale
        o = (attn @ v).transpose(0, 2, 1, 3).reshape(n, -1, d)
        x = residual + linear(o, W(l + "self_attn.out_proj.weight"), W(l + "self_attn.out_proj.bias"))
        residual = x
        h = layer_norm(x, W(l + "layer_norm2.weight"), W(l + "layer_norm2.bias"), eps)
        h = linear(gelu_tanh(linear(h, W(l + "mlp.fc1.weight"), W(l + "mlp.fc1.bias"))), W(l + "mlp.fc2.weight"), W(l + "mlp.fc2.bias"))
        x = (residual + h).astype(F32)
    x = layer_norm(x, W(p + "post_layernorm.weight"), W(p + "post_layernorm.bias"), eps)

    # Gemma3MultiModalProjector: transpose -> [n, d, 64, 64] -> AvgPool2d(k) -> flatten(2).transpose(1, 2)
    tokens_per_side = int(cfg["mm_tokens_per_image"] ** 0.5)
    k = side // tokens_per_side
    grid = x.transpose(0, 2, 1).reshape(n, d, side, side)
    pooled = grid.reshape(n, d, tokens_per_side, k, tokens_per_side, k).mean(axis=(3, 5))
    pooled = pooled.reshape(n, d, -1).transpose(0, 2, 1).astype(F32)
    normed = gemma_rms_norm(pooled, W("model.multi_modal_projector.mm_soft_emb_norm.weight"), eps)
    return (normed @ W("model.multi_modal_projector.mm_input_projection_weight")).astype(F32)


# ---- text: Gemma3TextModel + tied lm_head ----------------------------------------------------------------

def rope_inv_freq(head_dim, base, factor=1.0):
    # Gemma3RotaryEmbedding default / linear rope init, in float32
    inv = F32(1.0) / (F32(base) ** (np.arange(0, head_dim, 2, dtype=np.int64).astype(F32) / F32(head_dim)))
    return (inv / F32(factor)).astype(F32)


def rope_params(tc):
    """(base, linear factor) per layer type, from v5 rope_parameters or the v4.5x fields."""
    rp = tc.get("rope_parameters")
    if isinstance(rp, dict) and "full_attention" in rp:
        full, slide = rp["full_attention"], rp["sliding_attention"]
        return {
            "full_attention": (full["rope_theta"], full.get("factor", 1.0) if full.get("rope_type") == "linear" else 1.0),
            "sliding_attention": (slide["rope_theta"], slide.get("factor", 1.0) if slide.get("rope_type") == "linear" else 1.0),
        }
    scaling = tc.get("rope_scaling") or {}
    factor = scaling.get("factor", 1.0) if scaling.get("rope_type", scaling.get("type")) == "linear" else 1.0
    return {"full_attention": (tc["rope_theta"], factor), "sliding_attention": (tc["rope_local_base_freq"], 1.0)}


def layer_types(tc):
    if tc.get("layer_types"):
        return tc["layer_types"]
    pattern = tc.get("sliding_window_pattern", 6)
    return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(tc["num_hidden_layers"])]


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)  # rotate_half
    return (x * cos + rotated * sin).astype(F32)


def build_masks(tc, attention_mask, token_type_ids, image_attention):
    """Additive masks [b, 1, s, s] per layer type, as masking_utils builds them for a cache-less forward."""
    b, s = attention_mask.shape
    q = np.arange(s)[:, None]
    kv = np.arange(s)[None, :]
    causal = kv <= q
    window = kv > q - tc["sliding_window"]
    pad = attention_mask[:, None, None, :].astype(bool)
    allowed = {"full_attention": causal[None, None] & pad, "sliding_attention": (causal & window)[None, None] & pad}
    if image_attention == "bidirectional" and token_type_ids is not None:
        # token_type_ids_mask_function: same contiguous image run -> visible both ways (or-ed with the base mask)
        is_img = token_type_ids == 1
        prev = np.concatenate([np.zeros((b, 1), bool), is_img[:, :-1]], axis=1)
        group = np.where(is_img, np.cumsum(is_img & ~prev, axis=1) - 1, -1)
        same = is_img[:, :, None] & is_img[:, None, :] & (group[:, :, None] == group[:, None, :])
        for key in allowed:
            allowed[key] = (allowed[key] | same[:, None]) & pad
    return {k: np.where(v, F32(0.0), MASK_MIN).astype(F32) for k, v in allowed.items()}


def text_forward(cfg, W, inputs_embeds, attention_mask, position_ids, token_type_ids=None, image_attention="causal", logits_to_keep=0):
    tc = cfg["text_config"]
    heads, kv_heads, hd = tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"]
    eps = tc["rms_norm_eps"]
    b, s, _ = inputs_embeds.shape
    groups = heads // kv_heads
    types = layer_types(tc)
    masks = build_masks(tc, attention_mask, token_type_ids, image_attention)
    rope = {}
    for kind, (base, factor) in rope_params(tc).items():
        freqs = position_ids.astype(F32)[:, :, None] * rope_inv_freq(hd, base, factor)[None, None, :]
        emb = np.concatenate([freqs, freqs], axis=-1)
        rope[kind] = (np.cos(emb)[:, None].astype(F32), np.sin(emb)[:, None].astype(F32))
    scaling = F32(tc["query_pre_attn_scalar"] ** -0.5)

    x = inputs_embeds.astype(F32)
    for i in range(tc["num_hidden_layers"]):
        l = f"model.language_model.layers.{i}."
        kind = types[i]
        residual = x
        h = gemma_rms_norm(x, W(l + "input_layernorm.weight"), eps)
        q = linear(h, W(l + "self_attn.q_proj.weight")).reshape(b, s, heads, hd).transpose(0, 2, 1, 3)
        k = linear(h, W(l + "self_attn.k_proj.weight")).reshape(b, s, kv_heads, hd).transpose(0, 2, 1, 3)
        v = linear(h, W(l + "self_attn.v_proj.weight")).reshape(b, s, kv_heads, hd).transpose(0, 2, 1, 3)
        q = gemma_rms_norm(q, W(l + "self_attn.q_norm.weight"), eps)
        k = gemma_rms_norm(k, W(l + "self_attn.k_norm.weight"), eps)
        cos, sin = rope[kind]
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        k = np.repeat(k, groups, axis=1)  # repeat_kv: head h uses kv head h // groups
        v = np.repeat(v, groups, axis=1)
        scores = (q @ k.transpose(0, 1, 3, 2)) * scaling + masks[kind]
        o = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(b, s, heads * hd)
        o = linear(o, W(l + "self_attn.o_proj.weight"))
        x = residual + gemma_rms_norm(o, W(l + "post_attention_layernorm.weight"), eps)
        residual = x
        h = gemma_rms_norm(x, W(l + "pre_feedforward_layernorm.weight"), eps)
        h = linear(gelu_tanh(linear(h, W(l + "mlp.gate_proj.weight"))) * linear(h, W(l + "mlp.up_proj.weight")), W(l + "mlp.down_proj.weight"))
        x = (residual + gemma_rms_norm(h, W(l + "post_feedforward_layernorm.weight"), eps)).astype(F32)
    x = gemma_rms_norm(x, W("model.language_model.norm.weight"), eps)
    if logits_to_keep:
        x = x[:, -logits_to_keep:]
    try:
        head = W("lm_head.weight")
    except KeyError:
        head = W("model.language_model.embed_tokens.weight")  # tied
    logits = x @ head.T
    if tc.get("final_logit_softcapping"):
        cap = F32(tc["final_logit_softcapping"])
        logits = np.tanh(logits / cap) * cap
    return logits.astype(F32)


def embed(cfg, W, input_ids, image_features=None):
    tc = cfg["text_config"]
    image_token = cfg["image_token_index"]
    table = W("model.language_model.embed_tokens.weight")
    is_image = input_ids == image_token
    ids = np.where(is_image & (image_token >= tc["vocab_size"]), 0, input_ids)
    # Gemma3TextScaledWordEmbedding: * sqrt(hidden) cast to the weight dtype
    x = (table[ids] * F32(tc["hidden_size"] ** 0.5)).astype(F32)
    if is_image.any():
        if image_features is None:
            raise ValueError("input_ids contain image tokens but no vision input was given")
        feats = image_features.reshape(-1, image_features.shape[-1])
        if feats.shape[0] != int(is_image.sum()):
            raise ValueError(f"{int(is_image.sum())} image tokens but {feats.shape[0]} feature rows")
        x[is_image] = feats  # masked_scatter: row-major order over (batch, position)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args()

    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    W = Weights(load_safetensors(os.path.join(args.model_dir, "model.safetensors")))
    with open(args.request) as f:
        req = json.load(f)
    os.makedirs(args.out_dir, exist_ok=True)
    summary = {}

    features = None
    if "vision" in req:
        vc = cfg["vision_config"]
        n = req["vision"]["num_images"]
        size = vc["image_size"]
        pixels = np.fromfile(req["vision"]["pixels_file"], dtype="<f4").reshape(n, 3, size, size)
        features = vision_forward(cfg, W, pixels)
        path = os.path.join(args.out_dir, "image_features.f32")
        features.astype("<f4").tofile(path)
        summary["image_features"] = {"file": path, "shape": list(features.shape)}

    summary["logits"] = []
    for i, t in enumerate(req.get("texts", [])):
        input_ids = np.asarray(t["input_ids"], dtype=np.int64)
        b, s = input_ids.shape
        attention_mask = np.asarray(t.get("attention_mask", np.ones((b, s))), dtype=np.int64)
        position_ids = np.asarray(t.get("position_ids", np.tile(np.arange(s), (b, 1))), dtype=np.int64)
        token_type_ids = (input_ids == cfg["image_token_index"]).astype(np.int64)
        x = embed(cfg, W, input_ids, features)
        logits = text_forward(cfg, W, x, attention_mask, position_ids, token_type_ids, t.get("image_attention", "causal"), t.get("logits_to_keep", 0))
        path = os.path.join(args.out_dir, f"logits.{i}.f32")
        logits.astype("<f4").tofile(path)
        summary["logits"].append({"file": path, "shape": list(logits.shape)})

    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

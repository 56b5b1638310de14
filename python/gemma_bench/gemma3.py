"""The published Gemma 3 architecture and its token layout, written out so nothing is downloaded (pure, no imports
beyond the stdlib): token ids, the 4B/12B/27B text configs and the SigLIP vision config (panscan-spec.md §3-4), the
config.json for --weights random, the prompt layout Gemma3Processor produces, and left padding."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

# Gemma 3 token ids and shapes (panscan-spec.md §3.1, §4).
PAD_TOKEN_ID = 0
EOS_TOKEN_IDS = (1, 106)  # <eos>, <end_of_turn>
BOS_TOKEN_ID = 2
START_OF_TURN_ID = 105
END_OF_TURN_ID = 106
BOI_TOKEN_ID = 255999
EOI_TOKEN_ID = 256000
IMAGE_TOKEN_ID = 262144
VOCAB_SIZE = 262208
MM_TOKENS_PER_IMAGE = 256
IMAGE_SIZE_PX = 896
NEWLINE2_ID = 108  # "\n\n"
SPACE_ID = 236743  # a lone "▁"

RANDOM_INIT_STD = 0.02

# The published text configs (panscan-spec.md §4.4; convert_gemma3_weights.py _VARIANTS), 1B excluded (no vision).
MODEL_SIZES: Dict[str, Dict[str, Any]] = {
    "4b": dict(hidden_size=2560, num_hidden_layers=34, num_attention_heads=8, num_key_value_heads=4, head_dim=256,
               intermediate_size=10240, query_pre_attn_scalar=256),
    "12b": dict(hidden_size=3840, num_hidden_layers=48, num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                intermediate_size=15360, query_pre_attn_scalar=256),
    "27b": dict(hidden_size=5376, num_hidden_layers=62, num_attention_heads=32, num_key_value_heads=16, head_dim=128,
                intermediate_size=21504, query_pre_attn_scalar=168),
}
# SigLIP-So400m/14 at 896 px, identical for every size (panscan-spec.md §4.1).
VISION_CONFIG: Dict[str, Any] = dict(
    model_type="siglip_vision_model", hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
    num_attention_heads=16, num_channels=3, image_size=IMAGE_SIZE_PX, patch_size=14, hidden_act="gelu_pytorch_tanh",
    layer_norm_eps=1e-6, attention_dropout=0.0, vision_use_head=False,
)
SLIDING_WINDOW_PATTERN = 6


def gemma3_config_dict(size: str) -> Dict[str, Any]:
    """The published Gemma 3 config.json for a size, written out in full so no download is needed.

    Both the legacy keys (rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern) that the Hub files
    carry and the explicit layer_types are given, so transformers 4.5x and v5 read the same architecture.
    """
    t = MODEL_SIZES[size]
    n = t["num_hidden_layers"]
    text = dict(
        model_type="gemma3_text", vocab_size=VOCAB_SIZE, hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6,
        max_position_embeddings=131072, rope_theta=1_000_000.0, rope_local_base_freq=10_000.0,
        rope_scaling={"rope_type": "linear", "factor": 8.0}, sliding_window=1024,
        sliding_window_pattern=SLIDING_WINDOW_PATTERN, layer_types=layer_types(n), attention_bias=False,
        attention_dropout=0.0, final_logit_softcapping=None, attn_logit_softcapping=None,
        pad_token_id=PAD_TOKEN_ID, bos_token_id=BOS_TOKEN_ID, eos_token_id=list(EOS_TOKEN_IDS),
        tie_word_embeddings=True, initializer_range=RANDOM_INIT_STD, **t,
    )
    return dict(
        model_type="gemma3", architectures=["Gemma3ForConditionalGeneration"], text_config=text,
        vision_config=dict(VISION_CONFIG), mm_tokens_per_image=MM_TOKENS_PER_IMAGE, boi_token_index=BOI_TOKEN_ID,
        eoi_token_index=EOI_TOKEN_ID, image_token_index=IMAGE_TOKEN_ID, initializer_range=RANDOM_INIT_STD,
        pad_token_id=PAD_TOKEN_ID, bos_token_id=BOS_TOKEN_ID, eos_token_id=list(EOS_TOKEN_IDS), tie_word_embeddings=True,
    )


def layer_types(num_layers: int) -> List[str]:
    """Layer i is global iff (i+1) % 6 == 0 (panscan-spec.md §4.4)."""
    return ["full_attention" if (i + 1) % SLIDING_WINDOW_PATTERN == 0 else "sliding_attention" for i in range(num_layers)]


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int = PAD_TOKEN_ID) -> Tuple[List[List[int]], List[List[int]]]:
    """Left-pads token sequences to one length: (input_ids, attention_mask). Left, so every row's last prompt token
    sits at the same position and generation appends to all rows at once."""
    width = max((len(s) for s in seqs), default=0)
    ids = [[pad_id] * (width - len(s)) + list(s) for s in seqs]
    mask = [[0] * (width - len(s)) + [1] * len(s) for s in seqs]
    return ids, mask


def image_sequence_ids() -> List[int]:
    return [NEWLINE2_ID, BOI_TOKEN_ID] + [IMAGE_TOKEN_ID] * MM_TOKENS_PER_IMAGE + [EOI_TOKEN_ID, NEWLINE2_ID]


def synthetic_input_ids(num_crops: int, question_tokens: int = 12) -> List[int]:
    """A prompt with the exact token layout Gemma3Processor gives one image with num_crops crops (panscan-spec.md
    §3.2-3.3: 276 + 261k image-related tokens for k >= 1, 260 for k = 0), with stand-in ids for the words. Random
    weights do not care which words they read; the layout (image runs, their count, the prompt length) is what
    the vision tower, the bidirectional image mask and the prefill cost depend on."""
    word = 1000  # any ordinary vocabulary id
    ids = [BOS_TOKEN_ID, START_OF_TURN_ID, word, 107]  # <bos><start_of_turn>user\n
    if num_crops == 0:
        ids += image_sequence_ids()
    else:
        ids += [word] * 5 + [SPACE_ID] + image_sequence_ids()  # "Here is the original image " SEQ
        ids += [word] * 10 + [SPACE_ID]  # " and here are some crops to help you see better "
        for i in range(num_crops):
            if i > 0:
                ids.append(SPACE_ID)
            ids += image_sequence_ids()
    ids += [word] * question_tokens + [END_OF_TURN_ID, 107, START_OF_TURN_ID, word, 107]
    return ids


def count_image_tokens(ids: Sequence[int]) -> int:
    return sum(1 for t in ids if t == IMAGE_TOKEN_ID)


def check_image_tokens(ids: Sequence[int], entries: int) -> None:
    n = count_image_tokens(ids)
    if n != MM_TOKENS_PER_IMAGE * entries:
        raise ValueError(f"the prompt has {n} image tokens but {entries} image entries need "
                         f"{MM_TOKENS_PER_IMAGE * entries} ({MM_TOKENS_PER_IMAGE} each)")

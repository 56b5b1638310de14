"""--preprocess hf: HF's own pipeline in the worker (PIL decode, then Gemma3Processor with pan-and-scan passed at call
time), timed as the request's preprocessMs."""
from __future__ import annotations

import time
from typing import Any, Dict

from ..batch import Prepared
from ..gemma3 import check_image_tokens


def prepare_hf(processor: Any, req: Dict[str, Any]) -> Prepared:
    """HF's own pipeline: PIL decode, then Gemma3Processor with pan-and-scan passed at call time (its defaults
    shadow anything set on the image processor: panscan-spec.md §2.1)."""
    from PIL import Image, ImageOps

    t0 = time.perf_counter()
    path = req.get("imagePath")
    limit = int(req.get("pixelLimit") or 0) or None
    Image.MAX_IMAGE_PIXELS = limit
    with Image.open(path) as im:
        if limit is not None and im.width * im.height > limit:
            raise ValueError(f"{path}: {im.width}x{im.height} is over the pixel limit ({limit})")
        im.load()
        if req.get("exifOrientation") == "apply":
            im = ImageOps.exif_transpose(im)
        img = im.convert("RGB")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": req.get("prompt", "")}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ps = req.get("panScan")
    kw: Dict[str, Any] = {"do_pan_and_scan": ps is not None}
    if ps is not None:
        kw.update(pan_and_scan_min_crop_size=int(ps["minCropSize"]), pan_and_scan_max_num_crops=int(ps["maxNumCrops"]),
                  pan_and_scan_min_ratio_to_activate=float(ps["minRatioToActivate"]))
    enc = processor(text=[text], images=[[img]], return_tensors="pt", **kw)
    ids = enc["input_ids"][0].tolist()
    pv = enc["pixel_values"]
    entries = int(pv.shape[0])
    check_image_tokens(ids, entries)
    ms = (time.perf_counter() - t0) * 1000
    return Prepared(id=req.get("id"), max_new=int(req.get("maxNewTokens", 1)), input_ids=ids, pixel_values=pv,
                    entries=entries, preprocess_ms=ms, input_ms=ms)

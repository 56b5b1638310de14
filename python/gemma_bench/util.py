"""Small pure helpers shared by several modules: the first line of an error, percentiles, integer lists."""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

STDERR_SNIPPET_CHARS = 400


def first_line(text: str, limit: int = STDERR_SNIPPET_CHARS) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[:limit] + "..."


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def parse_int_list(text: str) -> List[int]:
    out = [int(x) for x in text.split(",") if x.strip() != ""]
    if any(v < 1 for v in out):
        raise ValueError(text)
    return out

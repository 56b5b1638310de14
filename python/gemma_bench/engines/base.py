"""The Engine interface: what the protocol loop (serve.py, batch.py) needs from a model runner."""
from __future__ import annotations

from typing import Any, Dict, List

from ..batch import GenOut, Prepared


class Engine:
    """What the protocol loop needs from a model runner."""

    def load(self) -> Dict[str, Any]:
        """Loads and warms the model; returns the ready message's body (protocol.ts ReadyMessage less its header)."""
        raise NotImplementedError

    def prepare(self, req: Dict[str, Any], preprocess: str) -> Prepared:
        raise NotImplementedError

    def generate(self, items: List[Prepared], max_new: int, p0: float) -> GenOut:
        raise NotImplementedError

    def is_oom(self, e: BaseException) -> bool:
        return False

    def after_oom(self) -> None:
        pass

    def is_context_broken(self, e: BaseException) -> bool:
        return False

"""The Evaluation record: one evaluated case, as every output and the audit store read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmlkb.reasoning.reasoner import Inference


@dataclass
class Evaluation:
    """One evaluation: the normalised input, the inference and the contract result."""

    evaluation_id: str
    case: dict[str, Any]
    selection: dict[str, str]
    inference: Inference
    result: dict[str, Any]
    input_digest: str
    started_at: str

"""The Evaluation record: one evaluated case, as every output and the audit store read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlkb.case.read import CaseRDF
from cmlkb.reasoning.reasoner import Inference


@dataclass
class Evaluation:
    """One evaluation: the normalised input, the inference and the contract result.

    `case_rdf` is the case's RDF as the validation built it (None when the case did not
    come through the validation, as in a replay); provenance takes the case IRIs from it.
    `provenance` is a cache slot for the provenance graph, filled once by the provenance
    layer (cmlkb.provenance.graph.provenance_graph) and read by the store and the exports;
    this layer does not know its type."""

    evaluation_id: str
    case: dict[str, Any]
    selection: dict[str, str]
    inference: Inference
    result: dict[str, Any]
    input_digest: str
    started_at: str
    case_rdf: CaseRDF | None = field(default=None, repr=False, compare=False)
    provenance: Any = field(default=None, repr=False, compare=False)

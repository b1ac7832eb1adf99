"""Knowledge facts: the rows of the application queries (queries/app/*.rq) as facts.

rules/facts.yaml declares each knowledge kind: the query that produces it and the type of
each field. Types:
  text                   a string (IRIs are given by their skos:notation in the query)
  int, bool              as written
  scaled:<unit>          a quantity as a scaled integer (units in facts.yaml `scales`)
  lower:<unit>:<flag>    a lower bound made inclusive: absent is 0, exclusive is +1
  upper:<unit>:<flag>    an upper bound made inclusive: absent is unbounded, exclusive is -1
  daily:<unit>:<freq>    a dose times the doses a day of the frequency field (doses_per_day)
The unit `lab` takes the unit of the row's `param` field (facts.yaml `lab_units`).
Each query returns ?iri, the statement the row comes from, for provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cmlkb.case.facts import FactSchema, fact_schema_at, scaled
from cmlkb.errors import CmlkbError
from cmlkb.knowledge import query_files
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.cache import cached


@dataclass(frozen=True)
class KnowledgeFact:
    fact: dict[str, Any]
    iri: str


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def convert_row(kind: str, spec: dict[str, Any], row: dict[str, Any], schema: FactSchema) -> dict:
    fact: dict[str, Any] = {"kind": kind}
    for name, ftype in spec.items():
        ftype = str(ftype)
        value = row.get(name)
        parts = ftype.split(":")
        try:
            if parts[0] == "text":
                fact[name] = "none" if value is None else str(value)
            elif parts[0] == "int":
                fact[name] = -1 if value is None else int(value)
            elif parts[0] == "bool":
                fact[name] = False if value is None else _bool(value)
            elif parts[0] == "daily":
                # daily:<unit>:<frequency field>: a dose times the doses a day
                per_day = schema.doses_per_day[str(row.get(parts[2]) or "QD")]
                fact[name] = (
                    -1
                    if value is None
                    else scaled(Decimal(str(value)) * Decimal(str(per_day)), parts[1], schema)
                )
            elif parts[0] in ("scaled", "lower", "upper"):
                unit = parts[1]
                if unit == "lab":
                    unit = schema.lab_units[str(row.get("param"))]
                if parts[0] == "scaled":
                    fact[name] = -1 if value is None else scaled(value, unit, schema)
                    continue
                inclusive = _bool(row.get(parts[2], True))
                if value is None:
                    fact[name] = 0 if parts[0] == "lower" else schema.unbounded
                else:
                    bound = scaled(value, unit, schema)
                    if not inclusive:
                        bound += 1 if parts[0] == "lower" else -1
                    fact[name] = bound
            else:
                raise CmlkbError(f"rules/facts.yaml: kind {kind}: unknown field type '{ftype}'")
        except (ValueError, KeyError, ArithmeticError) as exc:
            raise CmlkbError(
                f"knowledge fact {kind}, statement {row.get('iri')}: field '{name}' "
                f"({ftype}) cannot be read from {value!r}: {exc}"
            ) from exc
    return fact


def query_knowledge_facts(kb: KnowledgeBase) -> list[KnowledgeFact]:
    schema = fact_schema_at(kb.root)
    out: list[KnowledgeFact] = []
    for kind, decl in schema.knowledge_kinds.items():
        path = kb.root / "queries" / "app" / decl["query"]
        if not path.is_file():
            raise CmlkbError(f"rules/facts.yaml: kind {kind}: query {path.name} not found")
        for row in kb.select(query_files.read(path)):
            fact = convert_row(kind, decl["fields"], row, schema)
            out.append(KnowledgeFact(fact, str(row.get("iri", ""))))
    return out


_cache: dict[str, tuple[KnowledgeFact, ...]] = {}


def knowledge_facts(kb: KnowledgeBase) -> tuple[KnowledgeFact, ...]:
    """The knowledge facts of `kb`, computed once per process and knowledge digest (and
    kept in the disk cache of `kb`, if it has one)."""
    if kb.digest not in _cache:
        _cache[kb.digest] = cached(
            kb,
            "knowledge-facts",
            lambda: tuple(query_knowledge_facts(kb)),
            encode=lambda facts: [[f.fact, f.iri] for f in facts],
            decode=lambda rows: tuple(KnowledgeFact(dict(fact), str(iri)) for fact, iri in rows),
        )
    return _cache[kb.digest]

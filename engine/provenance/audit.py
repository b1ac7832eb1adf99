"""Replay, impact and tamper evidence over the audit store (issue 5):

- `cmlkb replay EVALUATION_ID` re-evaluates the stored input with the stored knowledge
  version (its files, materialised in a temporary folder and loaded from there; that
  folder is the knowledge root passed to the evaluation, the environment is neither read
  nor changed) and confirms the identical result; `--with-current` re-evaluates with
  today's knowledge and prints what changed, with the rules and statements responsible.
- `cmlkb impact --since VERSION` does that for every stored evaluation made with knowledge
  VERSION or older, and summarises whose recommendations the change alters.
- `cmlkb audit verify` walks the hash chain and names every edited, removed or reordered
  record.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmlkb.case.read import input_digest
from cmlkb.errors import CmlkbError
from cmlkb.knowledge import query_files
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from cmlkb.knowledge.namespaces import CML
from cmlkb.provenance.queries import python_value
from cmlkb.provenance.store import GENESIS, AuditStore

_stored_kb: dict[str, KnowledgeBase] = {}


def stored_knowledge(store: AuditStore, digest: str) -> KnowledgeBase:
    """The knowledge version `digest` rebuilt from the files kept in the store, in a
    temporary folder that is its root (`kb.root`); once per digest and process."""
    if digest in _stored_kb:
        return _stored_kb[digest]
    root = Path(tempfile.mkdtemp(prefix="cmlkb-knowledge-"))
    for rel, content in store.knowledge_files(digest).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    (root / "queries" / "app").mkdir(parents=True, exist_ok=True)
    kb = load_knowledge_from(root)
    if kb.digest != digest:
        raise CmlkbError(
            f"the stored files of knowledge {digest} hash to {kb.digest}: the "
            "store's copy of that knowledge version is damaged"
        )
    _stored_kb[digest] = kb
    return kb


# How a stored case is evaluated again: (case, knowledge, selection, evaluation id) ->
# the contract result. The pipeline's evaluation is passed in by the front door, so the
# audit layer does not depend on the pipeline above it.
Evaluate = Callable[[dict[str, Any], KnowledgeBase, dict[str, str], str], dict[str, Any]]


def _evaluate(
    store: AuditStore, graph: Any, kb: KnowledgeBase, evaluate: Evaluate
) -> dict[str, Any]:
    """The stored input re-evaluated with `kb` (every file read under `kb.root`)."""
    case = store.stored_input(graph)
    g = graph.value
    digest = store.literal(graph, _cml("inputDigest"))
    # records written before cml:inputDigestVersion hashed the earlier JSON form (1)
    version = store.optional_literal(graph, _cml("inputDigestVersion"))
    if input_digest(case, int(version) if version is not None else 1) != digest:
        raise CmlkbError(f"record {g}: the stored input does not match its input digest")
    selection = json.loads(store.literal(graph, _cml("selectionJson")))
    ident = store.literal(graph, _cml("evaluationId"))
    return evaluate(case, kb, selection, ident)


def _cml(name: str) -> Any:
    return ox.NamedNode(f"{CML}{name}")


def _normal(result: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(result, sort_keys=True))
    out.pop("evaluation_id", None)
    return out


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and "drug" in v for v in value)
    ):
        out = {}
        for v in value:
            out.update(_flatten(v, f"{prefix}[{v['drug']}]"))
        return out
    return {prefix: value}


@dataclass
class Change:
    path: str
    before: Any
    after: Any


@dataclass
class ReplayReport:
    evaluation_id: str
    case: str
    knowledge_before: str
    knowledge_after: str
    identical: bool
    changes: list[Change] = field(default_factory=list)
    reasons_added: list[dict[str, Any]] = field(default_factory=list)
    reasons_removed: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "evaluation_id": self.evaluation_id,
            "case": self.case,
            "knowledge_before": self.knowledge_before,
            "knowledge_after": self.knowledge_after,
            "identical": self.identical,
            "changes": [c.__dict__ for c in self.changes],
            "reasons_added": self.reasons_added,
            "reasons_removed": self.reasons_removed,
        }


def _reasons(result: dict[str, Any]) -> set[str]:
    out = set()
    for d in result.get("drugs", []):
        for r in d["reasons"]:
            out.add(
                json.dumps(
                    {
                        "drug": d["drug"],
                        **{
                            k: r.get(k)
                            for k in ("kind", "effect", "detail", "rule", "statement", "evidence")
                        },
                    },
                    sort_keys=True,
                )
            )
    return out


def compare(
    evaluation_id: str, before: dict[str, Any], after: dict[str, Any], same_knowledge: bool = True
) -> ReplayReport:
    """What differs between a stored result and a re-evaluated one (evaluation id aside;
    with same_knowledge=False the knowledge block may differ)."""
    a, b = _normal(before), _normal(after)
    fa, fb = _flatten(a), _flatten(b)
    changes = [
        Change(k, fa.get(k), fb.get(k))
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k) and not k.startswith("knowledge.")
    ]
    ra, rb = _reasons(a), _reasons(b)
    return ReplayReport(
        evaluation_id,
        str(a.get("case")),
        a["knowledge"]["version"] + " " + a["knowledge"]["digest"][:19],
        b["knowledge"]["version"] + " " + b["knowledge"]["digest"][:19],
        a == b if same_knowledge else not changes,
        changes,
        [json.loads(x) for x in sorted(rb - ra)],
        [json.loads(x) for x in sorted(ra - rb)],
    )


def replay(
    store: AuditStore,
    evaluation_id: str,
    evaluate: Evaluate,
    current: KnowledgeBase | None = None,
) -> ReplayReport:
    """Re-evaluate a stored evaluation: with its own knowledge version (current=None) or
    with `current`."""
    graph = store.find(evaluation_id)
    stored = store.stored_result(graph)
    kb = (
        stored_knowledge(store, store.literal(graph, _cml("knowledgeDigest")))
        if current is None
        else current
    )
    return compare(
        stored["evaluation_id"],
        stored,
        _evaluate(store, graph, kb, evaluate),
        same_knowledge=current is None,
    )


def render_report(report: ReplayReport, with_current: bool) -> str:
    if report.identical:
        how = "today's knowledge" if with_current else "its stored knowledge"
        return (
            f"evaluation {report.evaluation_id} (case {report.case}): identical result "
            f"when re-evaluated with {how} ({report.knowledge_after})\n"
        )
    lines = [
        f"evaluation {report.evaluation_id} (case {report.case}): the result CHANGED "
        f"({report.knowledge_before} -> {report.knowledge_after})"
    ]
    for c in report.changes:
        lines.append(f"  {c.path}: {json.dumps(c.before)} -> {json.dumps(c.after)}")
    for label, items in (
        ("new reason", report.reasons_added),
        ("reason gone", report.reasons_removed),
    ):
        for r in items:
            lines.append(
                f"  {label}: {r['drug']} {r['effect']} ({r['kind']}: {r['detail']}) "
                f"- rule {r['rule']}"
                + (f", {r['statement']} [{r['evidence']}]" if r.get("statement") else "")
            )
    return "\n".join(lines) + "\n"


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


def impact(
    store: AuditStore, since: str, current: KnowledgeBase, evaluate: Evaluate
) -> list[ReplayReport]:
    """Re-evaluate with `current` every stored evaluation made with knowledge `since` or
    older (a version such as 2026.11.0, or a digest sha256:...)."""
    _, rows = _evaluations(store)
    chosen = [
        r
        for r in rows
        if (
            r["knowledgeDigest"].startswith(since)
            if since.startswith("sha256:")
            else _version_key(r["knowledgeVersion"]) <= _version_key(since)
        )
    ]
    return [replay(store, r["evaluationId"], evaluate, current) for r in chosen]


def _evaluations(store: AuditStore) -> tuple[list[str], list[dict[str, Any]]]:
    rows = store.query("engine/stored-evaluations")
    cols = query_files.variables(rows)
    return cols, [{c: python_value(s[c]) for c in cols} for s in rows]


@dataclass
class Problem:
    evaluation_id: str
    kind: str  # edited | removed | reordered | incomplete
    message: str


def verify(store: AuditStore) -> tuple[int, list[Problem]]:
    """Walk the hash chain; return the number of records and every problem found."""
    records = store.records()
    index = store.index()
    problems: list[Problem] = []
    by_digest = {r.digest: r for r in records if r.digest}
    in_graphs = {r.graph.value for r in records}
    for iri, (seq, _digest) in sorted(index.items(), key=lambda kv: kv[1][0]):
        if iri not in in_graphs:
            problems.append(
                Problem(
                    iri.rsplit("/", 1)[-1],
                    "removed",
                    f"record {seq} ({iri.rsplit('/', 1)[-1]}) was removed",
                )
            )
    previous = None
    for r in records:
        if r.sequence is None or r.digest is None or r.previous is None:
            problems.append(
                Problem(
                    r.evaluation_id,
                    "incomplete",
                    f"evaluation {r.evaluation_id} has no chain fields",
                )
            )
            continue
        if store.recompute_digest(r) != r.digest:
            problems.append(
                Problem(
                    r.evaluation_id,
                    "edited",
                    f"record {r.sequence} ({r.evaluation_id}) was edited: its "
                    "content no longer matches its digest",
                )
            )
        listed = index.get(r.graph.value)
        if listed and listed != (r.sequence, r.digest):
            problems.append(
                Problem(
                    r.evaluation_id,
                    "edited",
                    f"record {r.sequence} ({r.evaluation_id}): its sequence "
                    "number or digest differs from the store index",
                )
            )
        expected = previous.digest if previous is not None else GENESIS
        if r.previous != expected:
            other = by_digest.get(r.previous)
            if other is not None and other is not previous:
                problems.append(
                    Problem(
                        r.evaluation_id,
                        "reordered",
                        f"record {r.sequence} ({r.evaluation_id}) was written "
                        f"after {other.evaluation_id}, not after "
                        f"{previous.evaluation_id if previous else 'the start'}",
                    )
                )
            elif other is None:
                problems.append(
                    Problem(
                        r.evaluation_id,
                        "removed",
                        f"the record before {r.sequence} ({r.evaluation_id}) was removed",
                    )
                )
        previous = r
    return len(records), problems

"""The provenance of an evaluation as W3C PROV-O (issue 5): what the explain and audit
queries read, what `--format turtle|jsonld` exports and what the audit store keeps.

The graph of one evaluation:

- the evaluation `eval:<id>`: a cml:Evaluation (prov:Activity) with its start time, the
  engine version, knowledge version and digest, the guideline editions, the input digest
  and its form (cml:inputDigestVersion, cmlkb.case.read.input_digest);
- each firing `eval:<id>/firing/<fid>-<n>`: a cml:RuleFiring that prov:used its premises
  and is prov:qualifiedAssociation/prov:hadPlan the rule `rule:<id>/v<version>`;
- each derived fact `eval:<id>/conclusion/<fid>`: a cml:Conclusion prov:wasGeneratedBy its
  firing(s), its fields as `fact:<field>` literals (fact: is https://w3id.org/cmlkb/fact#);
- each premise from the case: the case IRI of its JSON object (cmlkb.case.iri_of), a
  cml:CaseFact with cml:jsonPath and the JSON value found there;
- each premise from the knowledge: the statement IRI, copied with its evidence and
  sources (title, DOI, PMID, URL) so that the graph explains itself years later;
- the final status of each drug `eval:<id>/status/<drug>`: a cml:DrugStatusConclusion,
  prov:wasDerivedFrom its reasons (cml:hasReason; the ones that decide it also
  cml:decisiveReason) and the drug.

Only facts that are premises of some firing enter the graph (a few thousand triples).

The graph is written once per evaluation as N-Triples, each term written by pyoxigraph
(`str` of its NamedNode and Literal), no line twice (ProvenanceGraph): the audit store and
explain load that text into pyoxigraph as it is, the exports serialise it with pyoxigraph,
and rdflib only meets it at the pySHACL edge (validate_provenance). Text rather than
`pyoxigraph.Triple` objects because building a Triple with a literal object costs ~1.5 us
in pyoxigraph 0.5 (its argument conversion tries every term type), several times the line.
What every evaluation copies from the knowledge (statements, evidence tags, sources, drug
labels, rules, guideline nodes, drug statuses) is read from `kb.store` once per knowledge
digest and node, and reused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from cmlkb.case.read import INPUT_DIGEST_VERSION, canonical_json, iri_of, parse_path
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import (
    CML,
    ENGINE,
    FACT,
    PREFIXES,
    bind_prefixes,
    evaluation_iri,
    expand,
    knowledge_iri,
    provenance_iris,
    rule_iri,
)
from cmlkb.reasoning.reasoner import FactRecord
from cmlkb.results.evaluation import Evaluation

NTRIPLES = ox.RdfFormat.N_TRIPLES
# The prefixes of the Turtle export: the project's and the W3C vocabularies the graph uses.
EXPORT_PREFIXES: dict[str, str] = {
    **{prefix: str(ns) for prefix, ns in PREFIXES.items()},
    "fact": str(FACT),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "skos": str(SKOS),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def _n(iri: Any) -> str:
    """An IRI as an N-Triples term ("<iri>"), checked by pyoxigraph; a pyoxigraph
    NamedNode as it is (the case RDF may hold either kind)."""
    if isinstance(iri, ox.NamedNode):
        return str(iri)
    return str(ox.NamedNode(str(iri)))


def _lit(text: str) -> str:
    """A plain string literal as an N-Triples term (escaped by pyoxigraph)."""
    return str(ox.Literal(text))


_XSD_INTEGER = ox.NamedNode(str(XSD.integer))
_XSD_DECIMAL = ox.NamedNode(str(XSD.decimal))
_XSD_DATE = ox.NamedNode(str(XSD.date))
_XSD_DATETIME = ox.NamedNode(str(XSD.dateTime))

# The terms the graph writes, as N-Triples text.
A = _n(RDF.type)
P_USED, P_GENERATED, P_GENERATED_BY = _n(PROV.used), _n(PROV.generated), _n(PROV.wasGeneratedBy)
P_ASSOCIATED, P_QUALIFIED = _n(PROV.wasAssociatedWith), _n(PROV.qualifiedAssociation)
P_AGENT, P_PLAN, P_STARTED = _n(PROV.agent), _n(PROV.hadPlan), _n(PROV.startedAtTime)
P_DERIVED_FROM = _n(PROV.wasDerivedFrom)
C_ENTITY, C_ACTIVITY, C_PLAN = _n(PROV.Entity), _n(PROV.Activity), _n(PROV.Plan)
C_ASSOCIATION, C_SOFTWARE = _n(PROV.Association), _n(PROV.SoftwareAgent)
P_LABEL, P_NOTATION, P_SOURCE = _n(RDFS.label), _n(SKOS.notation), _n(DCTERMS.source)
C = {name: _n(CML[name]) for name in ("Evaluation", "EvaluationOptions", "CaseFact",
                                     "KnowledgeStatement", "Conclusion", "RuleFiring",
                                     "Rule", "DrugStatus", "DrugStatusConclusion",
                                     "Guideline", "ClassificationSystem")}  # fmt: skip
P = {name: _n(CML[name]) for name in ("evaluationId", "evaluatedCaseId", "engineVersion",
                                     "knowledgeVersion", "knowledgeDigest", "knowledgeGraph",
                                     "inputDigest", "inputDigestVersion", "selectionJson",
                                     "assessedOn", "guidelineId", "guideline", "jsonPath",
                                     "factKind", "jsonValue", "contextValue", "inEvaluation",
                                     "rule", "ruleId", "ruleVersion", "guidelineEdition",
                                     "guidelineSection", "ruleFile", "strengthRank",
                                     "hasReason", "decisiveReason")}  # fmt: skip
ENGINE_TERM = _n(ENGINE)

# What is copied from the knowledge base for each knowledge premise, source and drug.
_STATEMENT_PROPS = (RDF.type, DCTERMS.source, CML.evidence, CML.locator, RDFS.label,
                    SKOS.prefLabel, SKOS.notation)  # fmt: skip
_SOURCE_PROPS = (RDF.type, DCTERMS.title, DCTERMS.date, CML.doi, CML.pmid, CML.url, CML.pmcid)
_DRUG_PROPS = (RDF.type, SKOS.notation, SKOS.prefLabel, RDFS.label)


@cache
def engine_version() -> str:
    """The installed version of cmlkb (importlib.metadata), read once per process."""
    try:
        return version("cmlkb")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def started_at(evaluation: Evaluation) -> str:
    """The start time of an evaluation (ISO, UTC), recorded by evaluate_case."""
    return evaluation.started_at


@dataclass(frozen=True)
class ProvenanceGraph:
    """The provenance graph of one evaluation: N-Triples text, one triple per line, each
    line once, each term written by pyoxigraph (see the module docstring). Plain data:
    the store loads it, explain queries it, the exports serialise it."""

    evaluation_id: str
    knowledge_digest: str
    ntriples: str
    size: int = field(compare=False)

    def __len__(self) -> int:
        return self.size

    @property
    def name(self) -> ox.NamedNode:
        """The evaluation IRI, also the name of its graph in the audit store."""
        return ox.NamedNode(str(evaluation_iri(self.evaluation_id)))

    def triples(self) -> list[ox.Triple]:
        """The triples as pyoxigraph Triples (literals as written, not canonicalised)."""
        return [q.triple for q in ox.parse(self.ntriples, format=NTRIPLES)]


def _fact_literal(value: Any) -> str | None:
    """A field of a derived fact as an N-Triples literal: booleans, integers and decimals
    typed (decimals in positional notation, the lexical form rdflib wrote), the rest as
    text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(ox.Literal(value))
    if isinstance(value, int):
        return str(ox.Literal(str(value), datatype=_XSD_INTEGER))
    if isinstance(value, Decimal):
        return str(ox.Literal(f"{value:f}", datatype=_XSD_DECIMAL))
    return _lit(str(value))


def _scalars(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not isinstance(v, dict | list)}
    return value


def _json_at(case: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The value at a JSON path (objects reduced to their scalar members) and the scalar
    members of the nearest enclosing object below the case itself (the date and method
    of a variant's analysis), or None."""
    node: Any = case
    enclosing: Any = None
    parts = parse_path(path)
    for n, part in enumerate(parts):
        if isinstance(node, dict) and n > 0:
            enclosing = node
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None, None
    if isinstance(node, list):
        node = None
    context = _scalars(enclosing) if enclosing is not None and enclosing is not node else None
    return _scalars(node), context or None


# --------------------------------------------------------------------------------------
# What every evaluation copies from one knowledge version, once per digest and node
# --------------------------------------------------------------------------------------

Lines = tuple[str, ...]


@dataclass
class _KnowledgeCopies:
    """The lines an evaluation copies from the knowledge version `digest`, read from its
    pyoxigraph store on first use of each node and kept for the process."""

    store: ox.Store
    digest: str
    graph: str = ""
    premises: dict[str, tuple[Lines, tuple[str, ...]]] = field(default_factory=dict)
    sources: dict[str, Lines] = field(default_factory=dict)
    drugs: dict[str, Lines] = field(default_factory=dict)
    rules: dict[tuple[str, str], tuple[str, Lines, str | None]] = field(default_factory=dict)
    guidelines: dict[str, str | None] = field(default_factory=dict)
    statuses: Lines = ()

    def __post_init__(self) -> None:
        self.graph = _n(knowledge_iri(self.digest))

    def _objects(self, node: ox.NamedNode, prop: Any) -> list[Any]:
        pattern = self.store.quads_for_pattern(
            node, ox.NamedNode(str(prop)), None, ox.DefaultGraph()
        )
        return [q.object for q in pattern]

    def _copy(self, node: ox.NamedNode, props: Iterable[Any]) -> list[str]:
        subject = str(node)
        return [
            f"{subject} {_n(prop)} {obj} .\n" for prop in props for obj in self._objects(node, prop)
        ]

    def premise(self, iri: str) -> tuple[Lines, tuple[str, ...]]:
        """A knowledge premise (a statement, a drug, a threshold...): its lines and the
        IRIs of the sources it cites."""
        found = self.premises.get(iri)
        if found is None:
            node = ox.NamedNode(iri)
            subject = str(node)
            lines = [
                f"{subject} {A} {C_ENTITY} .\n",
                f"{subject} {P['knowledgeGraph']} {self.graph} .\n",
            ]
            lines += self._copy(node, _STATEMENT_PROPS)
            evidence = self._objects(node, CML.evidence)
            if evidence:
                lines.append(f"{subject} {A} {C['KnowledgeStatement']} .\n")
            for tag in evidence:
                if isinstance(tag, ox.NamedNode):
                    lines += self._copy(tag, (SKOS.notation,))
            sources = tuple(
                s.value for s in self._objects(node, DCTERMS.source) if isinstance(s, ox.NamedNode)
            )
            found = self.premises[iri] = (tuple(lines), sources)
        return found

    def source(self, iri: str) -> Lines:
        """A source: its type, title, date and identifiers."""
        found = self.sources.get(iri)
        if found is None:
            found = self.sources[iri] = tuple(self._copy(ox.NamedNode(iri), _SOURCE_PROPS))
        return found

    def drug(self, iri: str) -> Lines:
        """The drug a status is about: its type, code and labels."""
        found = self.drugs.get(iri)
        if found is None:
            node = ox.NamedNode(iri)
            subject = str(node)
            found = self.drugs[iri] = (
                f"{subject} {A} {C_ENTITY} .\n",
                f"{subject} {P['knowledgeGraph']} {self.graph} .\n",
                *self._copy(node, _DRUG_PROPS),
            )
        return found

    def guideline(self, code: str) -> str | None:
        """The guideline or classification node coded `code` (its N-Triples term), or
        None when the knowledge has none."""
        if code not in self.guidelines:
            kinds = (ox.NamedNode(str(CML.Guideline)), ox.NamedNode(str(CML.ClassificationSystem)))
            nodes = sorted(
                (
                    q.subject
                    for q in self.store.quads_for_pattern(
                        None, ox.NamedNode(str(SKOS.notation)), ox.Literal(code), ox.DefaultGraph()
                    )
                    if any(
                        True
                        for kind in kinds
                        for _ in self.store.quads_for_pattern(
                            q.subject, ox.NamedNode(str(RDF.type)), kind, ox.DefaultGraph()
                        )
                    )
                ),
                key=str,
            )
            self.guidelines[code] = str(nodes[0]) if nodes else None
        return self.guidelines[code]

    def rule(self, rule_id: str, rule_version: str, rule: Any) -> tuple[str, Lines, str | None]:
        """A rule version (the Rule of the inference, or None): its term, its lines and
        the IRI of the source its guideline cites."""
        key = (rule_id, str(rule_version))
        found = self.rules.get(key)
        if found is None:
            r = _n(rule_iri(rule_id, rule_version))
            lines = [
                f"{r} {A} {C['Rule']} .\n",
                f"{r} {A} {C_PLAN} .\n",
                f"{r} {A} {C_ENTITY} .\n",
                f"{r} {P['ruleId']} {_lit(rule_id)} .\n",
                f"{r} {P['ruleVersion']} {_lit(str(rule_version))} .\n",
            ]
            source = None
            if rule is not None:
                lines.append(f"{r} {P_LABEL} {_lit(rule.title)} .\n")
                guideline = rule.guideline or {}
                if guideline.get("source"):
                    source = str(expand(guideline["source"]))
                    lines.append(f"{r} {P_SOURCE} {_n(source)} .\n")
                if guideline.get("edition"):
                    lines.append(f"{r} {P['guidelineEdition']} {_lit(guideline['edition'])} .\n")
                if guideline.get("section"):
                    lines.append(
                        f"{r} {P['guidelineSection']} {_lit(str(guideline['section']))} .\n"
                    )
                lines.append(f"{r} {P['ruleFile']} {_lit(rule.file)} .\n")
            found = self.rules[key] = (r, tuple(lines), source)
        return found


_copies: dict[str, _KnowledgeCopies] = {}


def _knowledge_copies(kb: KnowledgeBase) -> _KnowledgeCopies:
    copies = _copies.get(kb.digest)
    if copies is None:
        copies = _copies[kb.digest] = _KnowledgeCopies(kb.store, kb.digest)
        statuses: list[str] = []
        for row in kb.select("engine/drug-statuses"):
            node = _n(row["s"])
            rank = ox.Literal(str(int(row["rank"])), datatype=_XSD_INTEGER)
            statuses += [
                f"{node} {A} {C['DrugStatus']} .\n",
                f"{node} {P_NOTATION} {_lit(str(row['code']))} .\n",
                f"{node} {P['strengthRank']} {rank} .\n",
            ]
        copies.statuses = tuple(statuses)
    return copies


# --------------------------------------------------------------------------------------
# The graph of one evaluation
# --------------------------------------------------------------------------------------


def provenance_graph(evaluation: Evaluation, kb: KnowledgeBase) -> ProvenanceGraph:
    """The provenance graph of an evaluation, built once and kept on the Evaluation (its
    `provenance` slot, per knowledge digest): the store, the exports and explain all read
    this one graph."""
    cached = evaluation.provenance
    if isinstance(cached, ProvenanceGraph) and cached.knowledge_digest == kb.digest:
        return cached
    graph = evaluation_graph(evaluation, kb)
    evaluation.provenance = graph
    return graph


def evaluation_graph(evaluation: Evaluation, kb: KnowledgeBase) -> ProvenanceGraph:
    """The PROV-O graph of one evaluation (see the module docstring), built anew; use
    provenance_graph to build it once per evaluation. The case IRIs come from the case RDF
    the validation built (Evaluation.case_rdf) when there is one."""
    copies = _knowledge_copies(kb)
    inference = evaluation.inference
    case = evaluation.case
    case_id = str(case["id"])
    iris = provenance_iris(evaluation.evaluation_id)
    ev = _n(iris.evaluation)
    out: list[str] = []
    add = out.append

    def triple(s: str, p: str, o: str) -> None:
        add(f"{s} {p} {o} .\n")

    selection_json = _lit(canonical_json(evaluation.selection))
    version = engine_version()
    triple(ev, A, C["Evaluation"])
    triple(ev, A, C_ACTIVITY)
    triple(ev, P["evaluationId"], _lit(evaluation.evaluation_id))
    triple(ev, P["evaluatedCaseId"], _lit(case_id))
    triple(ev, P_STARTED, str(ox.Literal(started_at(evaluation), datatype=_XSD_DATETIME)))
    triple(ev, P["engineVersion"], _lit(version))
    triple(ev, P["knowledgeVersion"], _lit(kb.version))
    triple(ev, P["knowledgeDigest"], _lit(kb.digest))
    triple(ev, P["knowledgeGraph"], copies.graph)
    triple(ev, P["inputDigest"], _lit(evaluation.input_digest))
    triple(
        ev,
        P["inputDigestVersion"],
        str(ox.Literal(str(INPUT_DIGEST_VERSION), datatype=_XSD_INTEGER)),
    )
    triple(ev, P["selectionJson"], selection_json)
    triple(ev, P_ASSOCIATED, ENGINE_TERM)
    triple(ENGINE_TERM, A, C_SOFTWARE)
    triple(ENGINE_TERM, P_LABEL, _lit(f"cmlkb {version}"))
    if case.get("assessed_on"):
        triple(ev, P["assessedOn"], str(ox.Literal(str(case["assessed_on"]), datatype=_XSD_DATE)))
    for key in ("guideline", "nccn", "classification"):
        code = evaluation.selection.get(key)
        if not code:
            continue
        triple(ev, P["guidelineId"], _lit(code))
        node = copies.guideline(code)
        if node is not None:
            triple(ev, P["guideline"], node)
            triple(node, P_NOTATION, _lit(code))
    rdf = evaluation.case_rdf
    mint: Callable[[str], Any] = (
        rdf.iri if rdf is not None and rdf.case_id == case_id else partial(iri_of, case_id)
    )
    case_terms: dict[str, str] = {}

    def case_term(path: str) -> str:
        term = case_terms.get(path)
        if term is None:
            term = case_terms[path] = _n(mint(path))
        return term

    triple(ev, P_USED, case_term(""))

    records = inference.records
    derived = [r for r in records.values() if r.origin == "derived"]
    used: set[str] = set()
    for record in derived:
        for d in record.derivations:
            used.update(d.premises)
    sources: set[str] = set()
    options = _n(iris.options)
    conclusion = iris.conclusion

    def premise_term(r: FactRecord) -> str:
        if r.origin == "derived":
            return f"<{conclusion(r.fid)}>"
        if r.origin == "knowledge":
            return _n(r.iri)
        if r.kind in ("selection", "selected"):
            return options
        return case_term(r.path)

    premise_terms: dict[str, str] = {}
    for fid in sorted(used, key=lambda f: int(f[1:])):
        r = records[fid]
        node = premise_terms[fid] = premise_term(r)
        if r.origin == "case" and node == options:
            triple(node, A, C["EvaluationOptions"])
            triple(node, A, C_ENTITY)
            triple(node, P["selectionJson"], selection_json)
            triple(ev, P_USED, node)
        elif r.origin == "case":
            triple(node, A, C["CaseFact"])
            triple(node, A, C_ENTITY)
            triple(node, P["jsonPath"], _lit(r.path))
            triple(node, P["factKind"], _lit(r.kind))
            value, context = _json_at(case, r.path)
            if r.path == "":
                value = {k: case[k] for k in ("id", "assessed_on") if k in case}
            if value is not None:
                triple(node, P["jsonValue"], _lit(canonical_json(value)))
            if context:
                triple(node, P["contextValue"], _lit(canonical_json(context)))
        elif r.origin == "knowledge":
            lines, cited = copies.premise(r.iri)
            out.extend(lines)
            sources.update(cited)

    in_evaluation, fact_kind = P["inEvaluation"], P["factKind"]
    conclusion_type, firing_type, rule_p = C["Conclusion"], C["RuleFiring"], P["rule"]
    rules_seen: set[str] = set()
    for record in derived:
        node = f"<{conclusion(record.fid)}>"
        add(f"{node} {A} {conclusion_type} .\n")
        add(f"{node} {A} {C_ENTITY} .\n")
        add(f"{node} {in_evaluation} {ev} .\n")
        add(f"{node} {fact_kind} {_lit(record.kind)} .\n")
        for key, value in record.fact.items():
            if key != "fid" and value is not None:
                add(node + _field(key, value))
        for n, d in enumerate(record.derivations):
            firing = f"<{iris.firing(record.fid, n)}>"
            rule, rule_lines, rule_source = copies.rule(
                d.rule_id, d.rule_version, inference.rules.get(d.rule_id)
            )
            assoc = f"<{iris.association(record.fid, n)}>"
            add(f"{firing} {A} {firing_type} .\n")
            add(f"{firing} {A} {C_ACTIVITY} .\n")
            add(f"{firing} {in_evaluation} {ev} .\n")
            add(f"{firing} {rule_p} {rule} .\n")
            add(f"{firing} {P_ASSOCIATED} {ENGINE_TERM} .\n")
            add(f"{firing} {P_QUALIFIED} {assoc} .\n")
            add(f"{assoc} {A} {C_ASSOCIATION} .\n")
            add(f"{assoc} {P_AGENT} {ENGINE_TERM} .\n")
            add(f"{assoc} {P_PLAN} {rule} .\n")
            add(f"{node} {P_GENERATED_BY} {firing} .\n")
            for p in d.premises:
                term = premise_terms.get(p) or premise_term(records[p])
                add(f"{firing} {P_USED} {term} .\n")
            if rule not in rules_seen:
                rules_seen.add(rule)
                out.extend(rule_lines)
                if rule_source is not None:
                    sources.add(rule_source)

    for source in sorted(sources):
        out.extend(copies.source(source))

    _drug_status_conclusions(add, evaluation, copies, ev, iris.status, conclusion)
    unique = dict.fromkeys(out)  # each triple once
    return ProvenanceGraph(evaluation.evaluation_id, kb.digest, "".join(unique), len(unique))


_fact_terms: dict[str, str] = {}


def _fact_term(key: str) -> str:
    """The predicate fact:<key> of a derived fact's field (kept per key)."""
    term = _fact_terms.get(key)
    if term is None:
        term = _fact_terms[key] = _n(FACT[key])
    return term


# " fact:<key> <literal> .\n" per field and text, boolean or integer value: codes and
# statuses recur in every evaluation. Decimals are not kept (3.5 and 3.50 are equal keys
# with two lexical forms); the cache is emptied when it grows past _FIELDS_KEPT.
_fields: dict[tuple[str, type, Any], str] = {}
_FIELDS_KEPT = 50_000


def _field(key: str, value: Any) -> str:
    """The rest of the line of a derived fact's field, after its subject."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        found = _fields.get((key, kind, value))
        if found is None:
            if len(_fields) >= _FIELDS_KEPT:
                _fields.clear()
            found = _fields[(key, kind, value)] = f" {_fact_term(key)} {_fact_literal(value)} .\n"
        return found
    return f" {_fact_term(key)} {_fact_literal(value)} .\n"


def _drug_status_conclusions(
    add: Callable[[str], None],
    evaluation: Evaluation,
    copies: _KnowledgeCopies,
    ev: str,
    status_iri: Callable[[str], str],
    conclusion_iri: Callable[[str], str],
) -> None:
    """The final status of each drug (Evaluation.result['drugs']), derived from the
    drug-reason conclusions of that drug; the reasons whose effect is the status decide."""
    inference = evaluation.inference
    for line in copies.statuses:
        add(line)
    drug_records = {r.fact["drug"]: r for r in inference.of_kind("drug") if r.iri}
    reasons: dict[str, list[Any]] = {}
    for r in inference.of_kind("drug-reason"):
        reasons.setdefault(str(r.fact["drug"]), []).append(r)
    for entry in evaluation.result.get("drugs", []):
        drug = str(entry["drug"])
        node = _n(status_iri(drug))
        add(f"{node} {A} {C['DrugStatusConclusion']} .\n")
        add(f"{node} {A} {C['Conclusion']} .\n")
        add(f"{node} {A} {C_ENTITY} .\n")
        add(f"{node} {P['inEvaluation']} {ev} .\n")
        add(f"{node} {P['factKind']} {_lit('drug-status')} .\n")
        add(f"{node} {_fact_term('drug')} {_lit(drug)} .\n")
        add(f"{node} {_fact_term('status')} {_lit(str(entry['status']))} .\n")
        add(f"{node} {P_GENERATED_BY} {ev} .\n")
        add(f"{ev} {P_GENERATED} {node} .\n")
        drug_record = drug_records.get(drug)
        if drug_record is not None:
            add(f"{node} {P_DERIVED_FROM} {_n(drug_record.iri)} .\n")
            for line in copies.drug(drug_record.iri):
                add(line)
        for r in reasons.get(drug, []):
            reason = f"<{conclusion_iri(r.fid)}>"
            add(f"{node} {P['hasReason']} {reason} .\n")
            add(f"{node} {P_DERIVED_FROM} {reason} .\n")
            if r.fact["effect"] == entry["status"]:
                add(f"{node} {P['decisiveReason']} {reason} .\n")


# --------------------------------------------------------------------------------------
# Exports and the rdflib edge
# --------------------------------------------------------------------------------------


def export(graphs: Iterable[ProvenanceGraph], fmt: str) -> str:
    """The graphs merged (each triple once) as Turtle (`turtle`, with EXPORT_PREFIXES) or
    JSON-LD (`jsonld`), serialised by pyoxigraph; triples sorted by subject, then types
    first, predicate and object, so each node is written in one place and the text is the
    same on every run.
    Typed literals come in pyoxigraph's canonical forms (the audit store's)."""
    merged = ox.Store()
    for graph in graphs:
        merged.load(graph.ntriples, format=NTRIPLES)
    triples = sorted(
        (q.triple for q in merged),
        key=lambda t: (str(t.subject), t.predicate != _TYPE, str(t.predicate), str(t.object)),
    )
    if fmt == "turtle":
        data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=EXPORT_PREFIXES)
        return (data or b"").decode()
    if fmt == "jsonld":
        return _jsonld((ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"").decode())
    raise ValueError(f"unknown provenance export format {fmt!r}; expected turtle or jsonld")


_TYPE = ox.NamedNode(str(RDF.type))


def _jsonld(text: str) -> str:
    """pyoxigraph's JSON-LD (expanded form, one line, rdf:type as a property) with the
    types as `@type` after `@id`, as JSON-LD writers usually give them, indented for a
    reader."""
    nodes = []
    for node in json.loads(text):
        types = node.pop(_TYPE.value, None)
        head = {"@id": node.pop("@id")} if "@id" in node else {}
        if types is not None:
            head["@type"] = [t["@id"] for t in types]
        nodes.append({**head, **node})
    return json.dumps(nodes, indent=2, ensure_ascii=False) + "\n"


def to_rdflib(graph: ProvenanceGraph) -> Graph:
    """The graph as an rdflib Graph with the export prefixes (for pySHACL)."""
    out = bind_prefixes(Graph())
    for prefix, namespace in EXPORT_PREFIXES.items():
        out.bind(prefix, namespace)
    return out.parse(data=graph.ntriples, format="nt")


def validate_provenance(graph: ProvenanceGraph | Graph, root: Path) -> tuple[bool, str]:
    """Check a provenance graph (or its rdflib form) against ontology/shapes/provenance.ttl
    under the knowledge root `root` (pyshacl)."""
    from pyshacl import validate

    data = to_rdflib(graph) if isinstance(graph, ProvenanceGraph) else graph
    shapes = Graph()
    shapes += _shapes(root)  # pyshacl mutates the shapes graph (engine-notes C2): a copy each time
    conforms, _report, text = validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True
    )
    return bool(conforms), str(text)


@cache
def _shapes(root: Path) -> Graph:
    """The provenance shapes under `root`, parsed once per root."""
    return Graph().parse(root / "ontology" / "shapes" / "provenance.ttl", format="turtle")


__all__ = [
    "ENGINE",
    "EXPORT_PREFIXES",
    "FACT",
    "ProvenanceGraph",
    "canonical_json",
    "engine_version",
    "evaluation_graph",
    "evaluation_iri",
    "expand",
    "export",
    "knowledge_iri",
    "provenance_graph",
    "rule_iri",
    "started_at",
    "to_rdflib",
    "validate_provenance",
]

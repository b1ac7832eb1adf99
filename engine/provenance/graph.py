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

Only facts that are premises of some firing enter the graph (a few hundred triples).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from cmlkb.case.read import INPUT_DIGEST_VERSION, canonical_json, iri_of, parse_path
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import (
    CML,
    ENGINE,
    FACT,
    bind_prefixes,
    evaluation_iri,
    expand,
    knowledge_iri,
    rule_iri,
)
from cmlkb.results.evaluation import Evaluation

# What is copied from the knowledge base for each knowledge premise and each source.
_STATEMENT_PROPS = (
    RDF.type,
    DCTERMS.source,
    CML.evidence,
    CML.locator,
    RDFS.label,
    SKOS.prefLabel,
    SKOS.notation,
)
_SOURCE_PROPS = (RDF.type, DCTERMS.title, DCTERMS.date, CML.doi, CML.pmid, CML.url, CML.pmcid)


def engine_version() -> str:
    """The installed version of cmlkb (importlib.metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cmlkb")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def started_at(evaluation: Evaluation) -> str:
    """The start time of an evaluation (ISO, UTC), recorded by evaluate_case."""
    return evaluation.started_at


def _literal(value: Any) -> Literal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, Decimal):
        return Literal(str(value), datatype=XSD.decimal)
    return Literal(str(value))


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


_ranks: dict[str, list[tuple[URIRef, str, int]]] = {}


def _drug_statuses(kb: KnowledgeBase) -> list[tuple[URIRef, str, int]]:
    if kb.digest not in _ranks:
        _ranks[kb.digest] = [
            (URIRef(r["s"]), str(r["code"]), int(r["rank"]))
            for r in kb.select("engine/drug-statuses")
        ]
    return _ranks[kb.digest]


def _guideline_node(kb: KnowledgeBase, code: str) -> URIRef | None:
    for s in kb.graph.subjects(SKOS.notation, Literal(code)):
        if (s, RDF.type, CML.Guideline) in kb.graph or (
            s,
            RDF.type,
            CML.ClassificationSystem,
        ) in kb.graph:
            return URIRef(s)
    return None


def _copy(kb: KnowledgeBase, graph: Graph, node: URIRef, props: tuple[URIRef, ...]) -> None:
    for p in props:
        for o in kb.graph.objects(node, p):
            graph.add((node, p, o))


def bind_like(graph: Graph) -> Graph:
    """An empty graph with the prefixes of `graph`."""
    out = Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=True, replace=True)
    return out


def provenance_graph(evaluation: Evaluation, kb: KnowledgeBase) -> Graph:
    """The provenance graph of an evaluation, built once and kept on the Evaluation (its
    `provenance` slot, per knowledge digest): the store, the exports and explain all read
    this one graph. Callers must not change it (copy it to add to it)."""
    cached = evaluation.provenance
    if isinstance(cached, tuple) and cached[0] == kb.digest:
        return cached[1]
    graph = evaluation_graph(evaluation, kb)
    evaluation.provenance = (kb.digest, graph)
    return graph


def evaluation_graph(evaluation: Evaluation, kb: KnowledgeBase) -> Graph:
    """The PROV-O graph of one evaluation (see the module docstring), built anew; use
    provenance_graph to build it once per evaluation. The case IRIs come from the case RDF
    the validation built (Evaluation.case_rdf) when there is one."""
    g = bind_prefixes(Graph())
    g.bind("prov", PROV)
    g.bind("fact", FACT)
    g.bind("dcterms", DCTERMS)
    g.bind("skos", SKOS)
    inference = evaluation.inference
    case = evaluation.case
    case_id = str(case["id"])
    ev = evaluation_iri(evaluation.evaluation_id)
    base = str(ev)

    g.add((ev, RDF.type, CML.Evaluation))
    g.add((ev, RDF.type, PROV.Activity))
    g.add((ev, CML.evaluationId, Literal(evaluation.evaluation_id)))
    g.add((ev, CML.evaluatedCaseId, Literal(case_id)))
    g.add((ev, PROV.startedAtTime, Literal(started_at(evaluation), datatype=XSD.dateTime)))
    g.add((ev, CML.engineVersion, Literal(engine_version())))
    g.add((ev, CML.knowledgeVersion, Literal(kb.version)))
    g.add((ev, CML.knowledgeDigest, Literal(kb.digest)))
    g.add((ev, CML.knowledgeGraph, knowledge_iri(kb.digest)))
    g.add((ev, CML.inputDigest, Literal(evaluation.input_digest)))
    g.add((ev, CML.inputDigestVersion, Literal(INPUT_DIGEST_VERSION, datatype=XSD.integer)))
    g.add((ev, CML.selectionJson, Literal(canonical_json(evaluation.selection))))
    g.add((ev, PROV.wasAssociatedWith, ENGINE))
    g.add((ENGINE, RDF.type, PROV.SoftwareAgent))
    g.add((ENGINE, RDFS.label, Literal(f"cmlkb {engine_version()}")))
    if case.get("assessed_on"):
        g.add((ev, CML.assessedOn, Literal(str(case["assessed_on"]), datatype=XSD.date)))
    for key in ("guideline", "nccn", "classification"):
        code = evaluation.selection.get(key)
        if not code:
            continue
        g.add((ev, CML.guidelineId, Literal(code)))
        node = _guideline_node(kb, code)
        if node is not None:
            g.add((ev, CML.guideline, node))
            g.add((node, SKOS.notation, Literal(code)))
    rdf = evaluation.case_rdf
    case_iri: Callable[[str], URIRef] = (
        rdf.iri if rdf is not None and rdf.case_id == case_id else partial(iri_of, case_id)
    )
    root = case_iri("")
    g.add((ev, PROV.used, root))

    records = inference.records
    used: set[str] = set()
    for record in inference.derived():
        for d in record.derivations:
            used.update(d.premises)
    sources: set[URIRef] = set()
    rules_seen: set[tuple[str, str]] = set()
    options = URIRef(f"{base}/options")

    def premise_node(fid: str) -> URIRef:
        r = records[fid]
        if r.origin == "derived":
            return URIRef(f"{base}/conclusion/{fid}")
        if r.origin == "knowledge":
            return URIRef(r.iri)
        if r.kind in ("selection", "selected"):
            return options
        return case_iri(r.path)

    for fid in sorted(used, key=lambda f: int(f[1:])):
        r = records[fid]
        node = premise_node(fid)
        if r.origin == "case" and node == options:
            g.add((node, RDF.type, CML.EvaluationOptions))
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, CML.selectionJson, Literal(canonical_json(evaluation.selection))))
            g.add((ev, PROV.used, node))
        elif r.origin == "case":
            g.add((node, RDF.type, CML.CaseFact))
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, CML.jsonPath, Literal(r.path)))
            g.add((node, CML.factKind, Literal(r.kind)))
            value, context = _json_at(case, r.path)
            if r.path == "":
                value = {k: case[k] for k in ("id", "assessed_on") if k in case}
            if value is not None:
                g.add((node, CML.jsonValue, Literal(canonical_json(value))))
            if context:
                g.add((node, CML.contextValue, Literal(canonical_json(context))))
        elif r.origin == "knowledge":
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, CML.knowledgeGraph, knowledge_iri(kb.digest)))
            _copy(kb, g, node, _STATEMENT_PROPS)
            if (node, CML.evidence, None) in kb.graph:
                g.add((node, RDF.type, CML.KnowledgeStatement))
            for ev_tag in kb.graph.objects(node, CML.evidence):
                _copy(kb, g, URIRef(ev_tag), (SKOS.notation,))
            sources.update(URIRef(s) for s in kb.graph.objects(node, DCTERMS.source))

    for record in inference.derived():
        node = URIRef(f"{base}/conclusion/{record.fid}")
        g.add((node, RDF.type, CML.Conclusion))
        g.add((node, RDF.type, PROV.Entity))
        g.add((node, CML.inEvaluation, ev))
        g.add((node, CML.factKind, Literal(record.kind)))
        for key, value in record.fact.items():
            if key in ("fid",):
                continue
            lit = _literal(value)
            if lit is not None:
                g.add((node, FACT[key], lit))
        for n, d in enumerate(record.derivations):
            firing = URIRef(f"{base}/firing/{record.fid}-{n}")
            rule = inference.rules.get(d.rule_id)
            r_iri = rule_iri(d.rule_id, d.rule_version)
            g.add((firing, RDF.type, CML.RuleFiring))
            g.add((firing, RDF.type, PROV.Activity))
            g.add((firing, CML.inEvaluation, ev))
            g.add((firing, CML.rule, r_iri))
            g.add((firing, PROV.wasAssociatedWith, ENGINE))
            assoc = URIRef(f"{firing}/association")
            g.add((firing, PROV.qualifiedAssociation, assoc))
            g.add((assoc, RDF.type, PROV.Association))
            g.add((assoc, PROV.agent, ENGINE))
            g.add((assoc, PROV.hadPlan, r_iri))
            g.add((node, PROV.wasGeneratedBy, firing))
            for p in d.premises:
                g.add((firing, PROV.used, premise_node(p)))
            if (d.rule_id, d.rule_version) not in rules_seen:
                rules_seen.add((d.rule_id, d.rule_version))
                g.add((r_iri, RDF.type, CML.Rule))
                g.add((r_iri, RDF.type, PROV.Plan))
                g.add((r_iri, RDF.type, PROV.Entity))
                g.add((r_iri, CML.ruleId, Literal(d.rule_id)))
                g.add((r_iri, CML.ruleVersion, Literal(str(d.rule_version))))
                if rule is not None:
                    g.add((r_iri, RDFS.label, Literal(rule.title)))
                    guideline = rule.guideline or {}
                    if guideline.get("source"):
                        src = expand(guideline["source"])
                        g.add((r_iri, DCTERMS.source, src))
                        sources.add(src)
                    if guideline.get("edition"):
                        g.add((r_iri, CML.guidelineEdition, Literal(guideline["edition"])))
                    if guideline.get("section"):
                        g.add((r_iri, CML.guidelineSection, Literal(str(guideline["section"]))))
                    g.add((r_iri, CML.ruleFile, Literal(rule.file)))

    for src in sources:
        _copy(kb, g, src, _SOURCE_PROPS)

    _drug_status_conclusions(g, evaluation, kb, ev, base)
    return g


def _drug_status_conclusions(
    g: Graph, evaluation: Evaluation, kb: KnowledgeBase, ev: URIRef, base: str
) -> None:
    """The final status of each drug (Evaluation.result['drugs']), derived from the
    drug-reason conclusions of that drug; the reasons whose effect is the status decide."""
    inference = evaluation.inference
    statuses = _drug_statuses(kb)
    for node, code, rank in statuses:
        g.add((node, RDF.type, CML.DrugStatus))
        g.add((node, SKOS.notation, Literal(code)))
        g.add((node, CML.strengthRank, Literal(rank, datatype=XSD.integer)))
    drug_records = {r.fact["drug"]: r for r in inference.of_kind("drug") if r.iri}
    reasons: dict[str, list[Any]] = {}
    for r in inference.of_kind("drug-reason"):
        reasons.setdefault(str(r.fact["drug"]), []).append(r)
    for entry in evaluation.result.get("drugs", []):
        drug = str(entry["drug"])
        node = URIRef(f"{base}/status/{quote(drug, safe='')}")
        g.add((node, RDF.type, CML.DrugStatusConclusion))
        g.add((node, RDF.type, CML.Conclusion))
        g.add((node, RDF.type, PROV.Entity))
        g.add((node, CML.inEvaluation, ev))
        g.add((node, CML.factKind, Literal("drug-status")))
        g.add((node, FACT.drug, Literal(drug)))
        g.add((node, FACT.status, Literal(entry["status"])))
        g.add((node, PROV.wasGeneratedBy, ev))
        g.add((ev, PROV.generated, node))
        drug_record = drug_records.get(drug)
        if drug_record is not None:
            drug_node = URIRef(drug_record.iri)
            g.add((node, PROV.wasDerivedFrom, drug_node))
            g.add((drug_node, RDF.type, PROV.Entity))
            g.add((drug_node, CML.knowledgeGraph, knowledge_iri(kb.digest)))
            _copy(kb, g, drug_node, (RDF.type, SKOS.notation, SKOS.prefLabel, RDFS.label))
        for r in reasons.get(drug, []):
            reason = URIRef(f"{base}/conclusion/{r.fid}")
            g.add((node, CML.hasReason, reason))
            g.add((node, PROV.wasDerivedFrom, reason))
            if r.fact["effect"] == entry["status"]:
                g.add((node, CML.decisiveReason, reason))


def validate_provenance(graph: Graph, root: Path) -> tuple[bool, str]:
    """Check a provenance graph against ontology/shapes/provenance.ttl under the knowledge
    root `root` (pyshacl)."""
    from pyshacl import validate

    shapes = Graph()
    shapes += _shapes(root)  # pyshacl mutates the shapes graph (engine-notes C2): a copy each time
    conforms, _report, text = validate(
        graph, shacl_graph=shapes, inference="none", allow_warnings=True
    )
    return bool(conforms), str(text)


@cache
def _shapes(root: Path) -> Graph:
    """The provenance shapes under `root`, parsed once per root."""
    return Graph().parse(root / "ontology" / "shapes" / "provenance.ttl", format="turtle")


__all__ = [
    "ENGINE",
    "FACT",
    "bind_like",
    "canonical_json",
    "engine_version",
    "evaluation_graph",
    "evaluation_iri",
    "expand",
    "knowledge_iri",
    "provenance_graph",
    "rule_iri",
    "started_at",
    "validate_provenance",
]

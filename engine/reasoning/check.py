"""`cmlkb check`: integrity of the knowledge base itself.

Six steps, each reporting `Finding`s graded violation / warning / info:

1. SHACL (ontology/shapes/knowledge.ttl) on the schema + knowledge graph, pyshacl with
   inference 'none' (the schema is in the same graph, so rdfs:subClassOf is visible).
2. QC queries (queries/qc/*.rq): SPARQL SELECTs over the whole graph that must return no
   rows; each file's header gives its title, why and severity. Run on pyoxigraph, once each.
3. OWL 2 consistency with HermiT (cmlkb.knowledge.owl); skipped with a warning when there
   is no Java.
4. Rule lint (cmlkb.reasoning.rules.lint_rules).
5. Citations (`citation_findings`): no knowledge literal, Turtle comment, rule string or
   query file cites the internal curation sheet ("fact sheet 1.2", its register ids
   S1..S28) or says "from memory"; users cannot open that document, so every citation
   names the primary source a reader can.
6. The case shapes (ontology/shapes/case.ttl) compile: each use of SHACL the case
   validation does not implement is a violation naming the shape and the feature.

Any violation makes `cmlkb check` exit 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from rdflib import Graph, Literal, Node, URIRef
from rdflib.namespace import SH, XSD

from cmlkb.case.shapes import SHAPES_FILE, ShapesNotSupported, compile_shapes, read_shapes
from cmlkb.errors import CmlkbError
from cmlkb.knowledge import owl, query_files
from cmlkb.knowledge.base import KnowledgeBase, knowledge_files, rule_files
from cmlkb.knowledge.namespaces import bind_prefixes, compact_text
from cmlkb.knowledge.yaml_files import YAMLError, read_yaml
from cmlkb.reasoning.rules import lint_rules

SEVERITIES = ("violation", "warning", "info")
_SH_SEVERITY = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}


@dataclass(frozen=True)
class Finding:
    """One problem found in the knowledge: how bad, by which check, where, and what to do.

    severity: 'violation' (must be fixed before release), 'warning' or 'info'.
    check: 'shacl:<shape>', 'qc:<query file stem>', 'owl', 'rules', 'citations' or 'case-shapes'.
    focus: the offending entity (a prefixed IRI such as drug:dasatinib) or a file.
    message: what is wrong and how to fix it.
    """

    severity: str
    check: str
    focus: str
    message: str


@dataclass(frozen=True)
class QcQuery:
    """A quality-check query of queries/qc with its header."""

    name: str
    path: Path
    title: str
    why: str
    severity: str
    text: str


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _curie(graph: Graph, node: Node | None) -> str:
    """A readable name for a node: prefixed IRI when a prefix is bound, else the IRI."""
    if node is None:
        return ""
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # rdflib raises on IRIs it cannot split
            return str(node)
    if isinstance(node, Literal):
        return repr(str(node)) if node.datatype is None else f"{node!s}^^{node.datatype}"
    return str(node)


def _local_name(node: Node) -> str:
    text = str(node)
    return re.split(r"[#/]", text)[-1] if isinstance(node, URIRef) else "anonymous-shape"


def _data_file(kb_root: Path, relative: str, fallback_root: Path | None) -> Path:
    """A file of the checked knowledge copy, else the one under `fallback_root` (the
    installation's, when the front door passes it)."""
    candidate = kb_root / relative
    if candidate.exists() or fallback_root is None:
        return candidate
    return fallback_root / relative


# ---------------------------------------------------------------------------
# 1. SHACL
# ---------------------------------------------------------------------------


def load_shapes(path: Path) -> Graph:
    """The knowledge shapes graph at `path` (ontology/shapes/knowledge.ttl of a knowledge
    root), parsed fresh (pyshacl mutates the shapes it is given)."""
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:
        raise CmlkbError(f"{path}: shapes are not valid Turtle: {exc}") from exc


def shacl_report(graph: Graph, shapes: Graph) -> tuple[bool, Graph]:
    """Validate `graph` (schema + knowledge) against the knowledge shapes.

    Returns pyshacl's (conforms, report graph); tests compare the report as a graph.
    """
    from pyshacl import validate  # imported here: pyshacl is slow to import

    conforms, report, _ = validate(
        graph,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
    )
    return bool(conforms), report


def shacl_findings(graph: Graph, shapes: Graph) -> list[Finding]:
    """SHACL results as findings; `check` names the constraint: shacl:<shape local name>."""
    _, report = shacl_report(graph, shapes)
    findings = []
    for result in report.subjects(SH.resultSeverity, None):
        severity = _SH_SEVERITY.get(
            URIRef(str(report.value(result, SH.resultSeverity))), "violation"
        )
        source = report.value(result, SH.sourceConstraint) or report.value(result, SH.sourceShape)
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        messages = [str(m) for m in report.objects(result, SH.resultMessage)]
        message = messages[0] if messages else "SHACL constraint not met"
        where = []
        if path is not None:
            where.append(f"property {_curie(graph, path)}")
        if value is not None and value != focus:
            where.append(f"value {_curie(graph, value)}")
        if where:
            message = f"{message} [{', '.join(where)}]"
        findings.append(
            Finding(
                severity,
                f"shacl:{_local_name(source) if source else 'shape'}",
                _curie(graph, focus) if focus is not None else "-",
                message,
            )
        )
    return findings


# ---------------------------------------------------------------------------
# 2. QC queries
# ---------------------------------------------------------------------------


def parse_qc_query(path: Path) -> QcQuery:
    """Read a QC query file and its header (cmlkb.knowledge.query_files grammar; a QC query also
    needs # severity: and # columns:)."""
    query = query_files.read(path)
    missing = [key for key in ("severity", "columns") if not getattr(query, key)]
    if missing:
        raise CmlkbError(f"{path}: QC query header lacks # {', # '.join(missing)}: add them")
    if query.severity not in ("violation", "warning"):
        raise CmlkbError(
            f"{path}: # severity: must be violation or warning, not {query.severity!r}"
        )
    return QcQuery(path.stem, path, query.title, query.why, query.severity, query.text)


def qc_queries(directory: Path) -> list[QcQuery]:
    """Every QC query of `directory` (queries/qc of a knowledge root), sorted by name."""
    return [parse_qc_query(p) for p in sorted(directory.glob("*.rq"))]


def _oxigraph_store(graph: Graph):  # -> pyoxigraph.Store
    import pyoxigraph

    store = pyoxigraph.Store()
    store.load(
        graph.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES
    )
    return store


def _term_text(graph: Graph, term) -> str:  # term: a pyoxigraph term or None
    import pyoxigraph

    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        return _curie(graph, URIRef(term.value))
    return compact_text(str(term.value))


def run_qc_query(graph: Graph, query: QcQuery, store=None) -> list[Finding]:
    """Rows of one QC query as findings (no rows: nothing found)."""
    store = store if store is not None else _oxigraph_store(graph)
    qc = query_files.Query(
        f"qc/{query.name}", query.path, query.text, query.title, query.why, query.severity
    )
    solutions = query_files.solutions(store, qc)
    findings = []
    for row in solutions:
        message = _term_text(graph, row["message"]) or query.title
        detail = _term_text(graph, row["detail"]) if "detail" in _variables(solutions) else ""
        if detail:
            message = f"{message} ({detail})"
        findings.append(
            Finding(query.severity, f"qc:{query.name}", _term_text(graph, row["focus"]), message)
        )
    return findings


def _variables(solutions) -> set[str]:
    return {v.value for v in solutions.variables}


def qc_findings(graph: Graph, queries: Iterable[QcQuery]) -> list[Finding]:
    """Run every QC query once over the whole graph."""
    queries = list(queries)
    store = _oxigraph_store(graph)
    findings: list[Finding] = []
    for query in queries:
        findings.extend(run_qc_query(graph, query, store))
    return findings


# ---------------------------------------------------------------------------
# 3. OWL consistency
# ---------------------------------------------------------------------------


def owl_findings(graph: Graph) -> list[Finding]:
    """HermiT consistency as findings: inconsistency is a violation, no Java a warning."""

    focus = "ontology/cmlkb.ttl + ontology/knowledge/"
    try:
        result = owl.check_consistency(graph)
    except owl.ReasonerUnavailable:
        return [
            Finding(
                "warning",
                "owl",
                focus,
                "OWL consistency NOT checked: no Java runtime found on PATH "
                "(install Java 17+ for HermiT, or pass --no-reasoner to skip knowingly)",
            )
        ]
    findings = [
        Finding("info", "owl", focus, f"left out of the OWL check: {note}")
        for note in result.omitted
    ]
    if not result.consistent:
        findings.append(
            Finding(
                "violation",
                "owl",
                focus,
                f"{result.detail}. HermiT gives no explanation; look first at the qc:literal-"
                "datatype-mismatch findings (a literal whose datatype contradicts the property's "
                "rdfs:range, e.g. a language-tagged string for an xsd:string property) and at "
                "owl:FunctionalProperty values.",
            )
        )
    return findings


# ---------------------------------------------------------------------------
# 4. Rule lint
# ---------------------------------------------------------------------------


def rule_findings(kb: KnowledgeBase) -> list[Finding]:
    """Findings of the rule linter (cmlkb.reasoning.rules.lint_rules), focus 'file: rule id'."""

    return [
        Finding(p.severity, "rules", f"rules/{p.file}: {p.rule}", p.message) for p in lint_rules(kb)
    ]


# ---------------------------------------------------------------------------
# 5. Citations a reader can follow
# ---------------------------------------------------------------------------

_CITE_PRIMARY = (
    "cite the primary source a reader can open instead (the statement's dcterms:source "
    "with a guideline section, table or page, or a paper's DOI/PMID with its table or "
    "figure)"
)
_SAY_UNVERIFIED = (
    "say in plain words what is unverified instead (e.g. 'not checked against the label "
    "text', 'the ELN 2020 footnote was not read')"
)
# (pattern, what was found, what to write instead). Case-insensitive.
FORBIDDEN_CITATIONS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"fact[ -]?sheet", re.I), "cites the internal curation fact sheet", _CITE_PRIMARY),
    (
        re.compile(r"curation (?:sheet|brief)", re.I),
        "cites the internal curation sheet",
        _CITE_PRIMARY,
    ),
    (re.compile(r"clinical-facts", re.I), "cites the internal curation file", _CITE_PRIMARY),
    (re.compile(r"from memory|as recalled", re.I), "says 'from memory'", _SAY_UNVERIFIED),
    (re.compile(r"\bregisterId\b"), "uses the curation sheet's register ids", _CITE_PRIMARY),
    (
        re.compile(r"\bopen question \d+", re.I),
        "cites an open question of the internal curation sheet",
        "say what the sources disagree on or what was not checked",
    ),
    # The curation sheet's register ids S1..S28 used as citations ("(S11, V)", "S19 labels");
    # a journal supplement such as "58(S1)" is not one.
    (
        re.compile(r"(?<![\w(])S(?:[1-9]|1\d|2[0-8])\b|(?<![\d\w])\(S(?:[1-9]|1\d|2[0-8])\b"),
        "cites a register id (S1..S28) of the internal curation sheet",
        "name the source itself (author and year, or its src: IRI)",
    ),
)


def forbidden_citations(text: str) -> list[tuple[str, str, str]]:
    """(matched text, what is wrong, what to write instead) for each forbidden citation."""
    hits = []
    for pattern, what, instead in FORBIDDEN_CITATIONS:
        for match in pattern.finditer(text):
            hits.append((match.group(0).strip(), what, instead))
    return hits


def _citation_finding(focus: str, text: str) -> list[Finding]:
    return [
        Finding("violation", "citations", focus, f"{what} ({found!r}): {instead}")
        for found, what, instead in forbidden_citations(text)
    ]


def _strings(value) -> Iterable[str]:  # value: anything yaml.safe_load returns
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def citation_findings(kb: KnowledgeBase, fallback_root: Path | None = None) -> list[Finding]:
    """Citations of the internal curation sheet, anywhere a user reads a citation: the
    knowledge graph's literals (focus: the statement and property), comment lines of the
    Turtle files (focus: file:line), every string of each rule (focus: file: rule id) and
    the query files (focus: file:line; those of `fallback_root` when the copy has none)."""
    graph = bind_prefixes(kb.graph)
    findings: list[Finding] = []
    for subject, predicate, obj in graph:
        if isinstance(obj, Literal) and obj.datatype in (None, XSD.string):
            focus = f"{_curie(graph, subject)} {_curie(graph, predicate)}"
            findings += _citation_finding(focus, str(obj))
    ontology = kb.root / "ontology"
    turtle = sorted(set(knowledge_files(kb.root)) | set(ontology.glob("shapes/*.ttl")))
    for path in turtle:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("#"):
                findings += _citation_finding(f"{_relative(path, kb.root)}:{number}", line)
    for path in rule_files(kb.root):
        try:
            doc = read_yaml(path.read_text(encoding="utf-8"))
        except YAMLError:
            continue  # the rule lint reports it
        for raw in doc.get("rules", []) if isinstance(doc, dict) else []:
            rid = raw.get("id", "?") if isinstance(raw, dict) else "?"
            for text in _strings(raw):
                findings += _citation_finding(f"rules/{path.name}: {rid}", text)
    queries = _data_file(kb.root, "queries", fallback_root)
    for path in sorted(queries.rglob("*.rq")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            findings += _citation_finding(f"queries/{_relative(path, queries)}:{number}", line)
    return findings


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------
# 6. The case shapes compile
# ---------------------------------------------------------------------------


def case_shape_findings(path: Path) -> list[Finding]:
    """A violation for each use of SHACL in the case shapes at `path` that the case
    validation does not implement (cmlkb.case.shapes): without this, a knowledge engineer
    would learn it only when the first case is validated."""
    try:
        compile_shapes(read_shapes(path), path)
    except ShapesNotSupported as exc:
        return [
            Finding("violation", "case-shapes", f"{SHAPES_FILE}: {shape}", what)
            for shape, what in exc.problems
        ]
    except CmlkbError as exc:
        return [Finding("violation", "case-shapes", str(SHAPES_FILE), str(exc))]
    return []


# ---------------------------------------------------------------------------
# All together
# ---------------------------------------------------------------------------


def _sort_key(finding: Finding) -> tuple[int, str, str, str]:
    return (
        SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else 0,
        finding.check,
        finding.focus,
        finding.message,
    )


def check_knowledge(
    kb: KnowledgeBase, reasoner: bool = True, fallback_root: Path | None = None
) -> list[Finding]:
    """Every finding of SHACL, QC queries, OWL consistency (unless reasoner=False) and rule
    lint on `kb`, sorted by severity, check and focus. Shapes and QC queries come from
    `kb.root` when it has them, else from `fallback_root` (`cmlkb check --root` passes the
    installation's knowledge root, so that a copy of ontology/ alone can be checked)."""
    graph = bind_prefixes(kb.graph)
    shapes = load_shapes(_data_file(kb.root, "ontology/shapes/knowledge.ttl", fallback_root))
    findings = shacl_findings(graph, shapes)
    findings += qc_findings(graph, qc_queries(_data_file(kb.root, "queries/qc", fallback_root)))
    if reasoner:
        findings += owl_findings(graph)
    else:
        findings.append(
            Finding("info", "owl", "ontology/", "OWL consistency skipped (--no-reasoner)")
        )
    findings += rule_findings(kb)
    findings += citation_findings(kb, fallback_root)
    findings += case_shape_findings(_data_file(kb.root, str(SHAPES_FILE), fallback_root))
    return sorted(set(findings), key=_sort_key)


def has_violation(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "violation" for f in findings)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def format_text(kb: KnowledgeBase, findings: list[Finding], seconds: float) -> str:
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    lines = [
        f"cmlkb check: knowledge {kb.version} ({kb.digest[:19]}) at {kb.root}",
        f"{counts['violation']} violation(s), {counts['warning']} warning(s), "
        f"{counts['info']} info ({seconds:.1f} s)",
    ]
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines += ["", f"{severity.upper()}S ({len(group)})"]
        for f in group:
            lines.append(f"  [{f.check}] {f.focus}")
            lines.append(f"      {f.message}")
    lines += ["", "FAIL: fix the violations above." if counts["violation"] else "OK: no violation."]
    return "\n".join(lines)


def format_json(kb: KnowledgeBase, findings: list[Finding], seconds: float) -> str:
    document = {
        "knowledge_version": kb.version,
        "knowledge_digest": kb.digest,
        "root": str(kb.root),
        "conforms": not has_violation(findings),
        "counts": {s: sum(f.severity == s for f in findings) for s in SEVERITIES},
        "seconds": round(seconds, 3),
        "findings": [asdict(f) for f in findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)

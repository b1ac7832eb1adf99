"""Loading the knowledge base: the ontology schema, the curated knowledge and the rule
files, with the knowledge version (owl:versionInfo of the ontology) and a digest that
identifies the exact content an evaluation used."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import OWL, Graph, Namespace, URIRef

from cmlkb import paths
from cmlkb.errors import CmlkbError

CML = Namespace("https://w3id.org/cmlkb/ontology#")
KB = Namespace("https://w3id.org/cmlkb/kb/")
DRUG = Namespace("https://w3id.org/cmlkb/drug/")
MUT = Namespace("https://w3id.org/cmlkb/mutation/")
SRC = Namespace("https://w3id.org/cmlkb/source/")
STMT = Namespace("https://w3id.org/cmlkb/statement/")
RULE = Namespace("https://w3id.org/cmlkb/rule/")
CASE = Namespace("https://w3id.org/cmlkb/case/")
EVAL = Namespace("https://w3id.org/cmlkb/evaluation/")
ONTOLOGY_IRI = URIRef("https://w3id.org/cmlkb/ontology")

PREFIXES = {
    "cml": CML,
    "kb": KB,
    "drug": DRUG,
    "mut": MUT,
    "src": SRC,
    "stmt": STMT,
    "rule": RULE,
    "case": CASE,
    "eval": EVAL,
}


def knowledge_files(root: Path | None = None) -> list[Path]:
    """The Turtle files of the knowledge base: the schema first, then knowledge/ sorted."""
    onto = (root / "ontology") if root else paths.ontology_dir()
    return [onto / "cmlkb.ttl", *sorted((onto / "knowledge").glob("*.ttl"))]


def rule_files(root: Path | None = None) -> list[Path]:
    """The rule files (rules/*.yaml except facts.yaml, which declares the fact kinds)."""
    rules = (root / "rules") if root else paths.rules_dir()
    return sorted(p for p in rules.glob("*.yaml") if p.name != "facts.yaml")


def inference_files(root: Path) -> list[Path]:
    """Everything besides the Turtle that changes what an evaluation concludes: the rules,
    the fact declarations and the application queries that turn knowledge into facts."""
    return [
        *sorted((root / "rules").glob("*.yaml")),
        *sorted((root / "queries" / "app").glob("*.rq")),
    ]


def digest_files(files: list[Path], base: Path) -> str:
    """sha256 over the relative path and bytes of each file, in order."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(base).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


@dataclass
class KnowledgeBase:
    """The knowledge graph with its identity. `graph` holds schema and knowledge."""

    graph: Graph
    version: str
    digest: str
    root: Path
    files: list[Path] = field(default_factory=list)


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    return graph


def parse_turtle_files(files: list[Path]) -> Graph:
    graph = bind_prefixes(Graph())
    for f in files:
        try:
            graph.parse(f, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated types on bad Turtle
            raise CmlkbError(f"{f.name}: not valid Turtle: {exc}") from exc
    return graph


def load_knowledge_from(root: Path) -> KnowledgeBase:
    """Load the knowledge base found under `root` (a folder with ontology/ and rules/)."""
    files = knowledge_files(root)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise CmlkbError(f"knowledge file missing: {missing[0]}")
    graph = parse_turtle_files(files)
    version = graph.value(ONTOLOGY_IRI, OWL.versionInfo)
    if version is None:
        raise CmlkbError("ontology/cmlkb.ttl has no owl:versionInfo: the knowledge version")
    all_files = files + inference_files(root)
    return KnowledgeBase(
        graph=graph,
        version=str(version),
        digest=digest_files(all_files, root),
        root=root,
        files=all_files,
    )


@cache
def load_knowledge() -> KnowledgeBase:
    """The knowledge base of this installation (cached for the process)."""
    return load_knowledge_from(paths.project_root())

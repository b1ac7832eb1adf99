"""Loading the knowledge base: the ontology schema, the curated knowledge and the rule
files, with the knowledge version (owl:versionInfo of the ontology) and a digest that
identifies the exact content an evaluation used."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import XSD, Graph

from cmlkb.errors import CmlkbError
from cmlkb.knowledge import query_files
from cmlkb.knowledge.namespaces import ONTOLOGY_IRI, bind_prefixes
from cmlkb.knowledge.paths import default_root


def knowledge_files(root: Path) -> list[Path]:
    """The Turtle files of the knowledge base: the schema first, then knowledge/ sorted."""
    onto = root / "ontology"
    return [onto / "cmlkb.ttl", *sorted((onto / "knowledge").glob("*.ttl"))]


def rule_files(root: Path) -> list[Path]:
    """The rule files (rules/*.yaml except facts.yaml, which declares the fact kinds)."""
    rules = root / "rules"
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


def _python(term: Any) -> Any:
    """A pyoxigraph term as a Python value: IRIs as str, literals by datatype."""
    if isinstance(term, ox.Literal):
        converter = _LITERAL_TYPES.get(term.datatype)
        return converter(term.value) if converter else term.value
    return term.value


_LITERAL_TYPES: dict[ox.NamedNode, Callable[[str], Any]] = {
    ox.NamedNode(str(XSD.integer)): int,
    ox.NamedNode(str(XSD.int)): int,
    ox.NamedNode(str(XSD.decimal)): Decimal,
    ox.NamedNode(str(XSD.double)): Decimal,
    ox.NamedNode(str(XSD.boolean)): lambda v: v in ("true", "1"),
}


class KnowledgeBase:
    """The knowledge with its identity (version, digest).

    Two views of the same Turtle files, each built on first use: `store`, a pyoxigraph
    store for the SPARQL the engine runs on every start (fast; engine-notes C5), and
    `graph`, an rdflib graph for pySHACL, owlready2 and rdflib-based tooling."""

    def __init__(
        self,
        version: str,
        digest: str,
        root: Path,
        files: list[Path],
        turtle: list[Path],
        store: ox.Store,
        cache_dir: Path | None = None,
    ) -> None:
        self.version = version
        self.digest = digest
        self.root = root
        self.files = files
        self.turtle = turtle
        self._store = store
        self._graph: Graph | None = None
        # where what is derived from this knowledge may be kept between runs
        # (cmlkb.knowledge.cache); None: nowhere
        self.cache_dir = cache_dir

    @property
    def store(self) -> ox.Store:
        return self._store

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = parse_turtle_files(self.turtle)
        return self._graph

    def select(
        self, query: query_files.Query | str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of a query file's SELECT over the knowledge (a Query, or the name of one of
        this installation's queries such as engine/sources), its parameters bound as
        cmlkb.knowledge.query_files describes; unbound variables left out."""
        return _select(self._store, query, params)


def parse_turtle_files(files: list[Path]) -> Graph:
    graph = bind_prefixes(Graph())
    for f in files:
        try:
            graph.parse(f, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated types on bad Turtle
            raise CmlkbError(f"{f.name}: not valid Turtle: {exc}") from exc
    return graph


def load_store(files: list[Path]) -> ox.Store:
    store = ox.Store()
    for f in files:
        try:
            store.load(path=str(f), format=ox.RdfFormat.TURTLE)
        except (SyntaxError, ValueError, OSError) as exc:
            raise CmlkbError(f"{f.name}: not valid Turtle: {exc}") from exc
    return store


def load_knowledge_from(root: Path, cache_dir: Path | None = None) -> KnowledgeBase:
    """Load the knowledge base found under `root` (a folder with ontology/ and rules/);
    `cache_dir`: where what is derived from it may be kept between runs (None: nowhere)."""
    files = knowledge_files(root)
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise CmlkbError(f"knowledge file missing: {missing[0]}")
    store = load_store(files)
    rows = [
        q["version"]
        for q in _select(store, "engine/knowledge-version", {"ontology": str(ONTOLOGY_IRI)})
    ]
    if len(rows) != 1:
        raise CmlkbError(
            "ontology/cmlkb.ttl needs exactly one owl:versionInfo: the knowledge "
            f"version (found {len(rows)})"
        )
    all_files = files + inference_files(root)
    return KnowledgeBase(
        version=str(rows[0]),
        digest=digest_files(all_files, root),
        root=root,
        files=all_files,
        turtle=files,
        store=store,
        cache_dir=cache_dir,
    )


def _select(
    store: ox.Store, query: query_files.Query | str, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    solutions = query_files.solutions(store, query, params)
    names = query_files.variables(solutions)
    # a solution iterates its values in the order of the variables (None: unbound)
    return [
        {n: _python(v) for n, v in zip(names, s, strict=True) if v is not None} for s in solutions
    ]


def load_knowledge(root: Path | None = None, cache_dir: Path | None = None) -> KnowledgeBase:
    """The knowledge base under `root`, loaded once per root (and cache folder) for the
    process; without a root, the one of this installation (`paths.default_root()`, for
    library callers and tests; the command line passes the root it chose). `cache_dir`:
    see load_knowledge_from."""
    return _load_cached(
        Path(root) if root is not None else default_root(),
        Path(cache_dir) if cache_dir is not None else None,
    )


@cache
def _load_cached(root: Path, cache_dir: Path | None) -> KnowledgeBase:
    return load_knowledge_from(root, cache_dir)

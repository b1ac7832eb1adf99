"""The audit store: a persistent, transactional RDF store that needs no server
(pyoxigraph's on-disk store, RocksDB).

Location: the path given (the command line's `--store PATH`, else its environment variable
CMLKB_STORE: cmlkb.interfaces.cli.store_location), else `./audit-store`.

What it holds:
- each evaluation as the named graph `eval:<id>`: its provenance (cmlkb.provenance.graph), the
  input case (cml:inputJson, canonical JSON), the result (cml:resultJson) and the hash
  chain fields: cml:sequenceNumber, cml:previousRecordDigest, cml:recordDigest;
- an index in the default graph: `eval:<id> cml:sequenceNumber n ; cml:recordDigest d`;
- each knowledge version used, once per digest: the named graph
  `https://w3id.org/cmlkb/knowledge/<hex>` (the knowledge triples) and
  `.../<hex>/files` (the bytes of every file the digest covers, for replay).

One evaluation is written by one `Store.extend` call, which pyoxigraph applies in one
transaction: a crash or kill during a write leaves no partial evaluation.

Record digest: sha256 over the sorted N-Triples lines of the evaluation graph without
its cml:recordDigest triple, then the previous record's digest (GENESIS for the first).
The lines are those of the canonical triples, as the store gives them back (pyoxigraph
keeps typed literals in canonical form: "29.0"^^xsd:decimal becomes "29"), so that
`audit verify` can recompute the digest from the stored triples.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from cmlkb.case.read import canonical_json, parse_json
from cmlkb.errors import CmlkbError, InvalidInput
from cmlkb.knowledge import query_files
from cmlkb.knowledge.base import KnowledgeBase, digest_files
from cmlkb.knowledge.namespaces import CML, evaluation_iri, knowledge_iri
from cmlkb.knowledge.query_files import Query
from cmlkb.provenance.graph import provenance_graph
from cmlkb.results.evaluation import Evaluation

DEFAULT_LOCATION = "audit-store"
GENESIS = "sha256:" + "0" * 64
# A writer flushes the store after this many appends: pyoxigraph holds recent writes in
# memory (about 3 MB per evaluation) until a flush.
FLUSH_EVERY = 50
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
# Files besides those the knowledge digest covers that change an evaluation's result.
EXTRA_FILES = ("queries/explain/statements.rq",)


def _p(name: str) -> ox.NamedNode:
    return ox.NamedNode(f"{CML}{name}")


SEQUENCE = _p("sequenceNumber")
PREVIOUS = _p("previousRecordDigest")
RECORD_DIGEST = _p("recordDigest")
INPUT_JSON = _p("inputJson")
RESULT_JSON = _p("resultJson")
KNOWLEDGE_FILE = _p("knowledgeFile")
FILE_PATH = _p("filePath")
FILE_CONTENT = _p("fileContent")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
KNOWLEDGE_VERSION_CLASS = _p("KnowledgeVersion")


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store at `path`, else ./audit-store (the command line chooses `path`)."""
    return Path(path or DEFAULT_LOCATION)


def record_digest(lines: list[str], previous: str) -> str:
    """The digest of a record: its N-Triples lines sorted, then the previous digest."""
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode())
        h.update(b"\n")
    h.update(previous.encode())
    return "sha256:" + h.hexdigest()


def _ntriples(graph_triples: Iterable[ox.Triple]) -> list[str]:
    return [f"{t} ." for t in graph_triples]


def _canonical(ntriples: str) -> list[str]:
    """The N-Triples lines (without their newline) of the triples of `ntriples` as the store
    will give them back, each once: pyoxigraph keeps typed literals in canonical form
    ("29.0"^^xsd:decimal becomes "29"), so the digest is computed on that.

    `ntriples` is one triple per line with each term as pyoxigraph writes it (prepare_record,
    cmlkb.provenance.graph). A line with no typed or language-tagged literal and no blank
    node is already what the store gives back: IRIs and plain strings are kept as they are.
    Only the other lines go through a scratch store (storing every line costs ~2 us each).
    They are parsed by `pyoxigraph.parse`, which keeps blank node labels (`Store.load` would
    give them fresh ones, and the digest would not match the stored triples)."""
    plain: set[str] = set()
    other: list[str] = []
    for line in ntriples.splitlines():
        if '"^^' in line or '"@' in line or "_:" in line:
            other.append(line)
        elif line:
            plain.add(line)
    scratch = ox.Store()
    scratch.extend(ox.parse("\n".join(other), format=ox.RdfFormat.N_TRIPLES))
    plain.update(f"{q.triple} ." for q in scratch)
    return list(plain)


def files_graph(digest: str) -> ox.NamedNode:
    return ox.NamedNode(f"{knowledge_iri(digest)}/files")


@dataclass
class Record:
    """One evaluation record as found in the store."""

    evaluation_id: str
    graph: ox.NamedNode
    sequence: int | None
    previous: str | None
    digest: str | None


@dataclass(frozen=True)
class PreparedRecord:
    """An evaluation made ready for the audit store, without its place in the hash chain:
    its provenance graph, input and result as N-Triples text (one triple per line, terms
    as pyoxigraph writes them). Plain data, so a worker process can prepare it and the one
    process that writes the store append it."""

    evaluation_id: str
    knowledge_digest: str
    ntriples: str


def prepare_record(evaluation: Evaluation, kb: KnowledgeBase) -> PreparedRecord:
    """The record of an evaluation as the store keeps it, before the chain fields: its
    provenance graph (built once per evaluation) with the input and the result."""
    graph = provenance_graph(evaluation, kb)
    g = graph.name
    extra = [
        ox.Triple(g, INPUT_JSON, ox.Literal(canonical_json(evaluation.case))),
        ox.Triple(g, RESULT_JSON, ox.Literal(canonical_json(evaluation.result))),
    ]
    text = graph.ntriples + "".join(f"{t} .\n" for t in extra)
    return PreparedRecord(evaluation.evaluation_id, kb.digest, text)


class AuditStore:
    """An open audit store (use `open_store`)."""

    def __init__(self, store: ox.Store, path: Path | None) -> None:
        self.store = store
        self.path = path
        # The chain head after this object's last append: an open store has one writer (the
        # on-disk store is locked to one process), so the head need not be searched again.
        self._head: tuple[int, str] | None = None

    # ---------------------------------------------------------------- writing

    def has_knowledge(self, digest: str) -> bool:
        return self.store.contains_named_graph(files_graph(digest))

    def add_knowledge(self, kb: KnowledgeBase) -> None:
        """Keep a knowledge version once per digest: its triples and its files' bytes."""
        if self.has_knowledge(kb.digest):
            return

        if digest_files(kb.files, kb.root) != kb.digest:
            raise CmlkbError(
                f"the knowledge files under {kb.root} changed since they were "
                "loaded; run the evaluation again"
            )
        kg = ox.NamedNode(str(knowledge_iri(kb.digest)))
        fg = files_graph(kb.digest)
        quads = [
            ox.Quad(q.subject, q.predicate, q.object, kg)
            for q in kb.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        ]
        version = ox.NamedNode(str(knowledge_iri(kb.digest)))
        quads.append(ox.Quad(version, RDF_TYPE, KNOWLEDGE_VERSION_CLASS, fg))
        quads.append(ox.Quad(version, _p("knowledgeVersion"), ox.Literal(kb.version), fg))
        quads.append(ox.Quad(version, _p("knowledgeDigest"), ox.Literal(kb.digest), fg))
        files = [f.relative_to(kb.root).as_posix() for f in kb.files]
        files += [e for e in EXTRA_FILES if (kb.root / e).is_file()]
        for rel in files:
            node = ox.NamedNode(f"{version.value}/file/{quote(rel, safe='')}")
            content = (kb.root / rel).read_bytes().decode("utf-8")
            quads += [
                ox.Quad(version, KNOWLEDGE_FILE, node, fg),
                ox.Quad(node, FILE_PATH, ox.Literal(rel), fg),
                ox.Quad(node, FILE_CONTENT, ox.Literal(content), fg),
            ]
        self.store.extend(quads)  # one transaction

    def head(self) -> tuple[int, str]:
        """(sequence number, digest) of the last record, (0, GENESIS) when empty."""
        if self._head is not None:
            return self._head
        rows = list(query_files.solutions(self.store, "engine/store-head"))
        if not rows:
            return 0, GENESIS
        return int(rows[0]["n"].value), rows[0]["d"].value

    def add(self, evaluation: Evaluation, kb: KnowledgeBase) -> str:
        """Write one evaluation (provenance, input, result, chain) in one transaction;
        return its record digest."""
        return self.append(prepare_record(evaluation, kb), kb)

    def append(self, record: PreparedRecord, kb: KnowledgeBase) -> str:
        """Write one prepared record (prepare_record, possibly made in another process)
        with its place in the hash chain, in one transaction; return its record digest.
        The knowledge version the record names must be `kb`."""
        if record.knowledge_digest != kb.digest:
            raise CmlkbError(
                f"evaluation {record.evaluation_id} was made with knowledge "
                f"{record.knowledge_digest}, not the {kb.digest} being stored"
            )
        self.add_knowledge(kb)
        g = ox.NamedNode(str(evaluation_iri(record.evaluation_id)))
        if self.store.contains_named_graph(g):
            raise CmlkbError(f"evaluation {record.evaluation_id} is already stored")
        sequence, previous = self.head()
        sequence += 1
        number = ox.Literal(str(sequence), datatype=XSD_INTEGER)
        chain = [ox.Triple(g, SEQUENCE, number), ox.Triple(g, PREVIOUS, ox.Literal(previous))]
        lines = _canonical(record.ntriples + "".join(f"{t} .\n" for t in chain))
        digest = record_digest(lines, previous)
        # "<s> <p> <o> ." -> "<s> <p> <o> <g> .": the record in its graph, then the index
        name = str(g)
        quads = [f"{line[:-1]}{name} .\n" for line in lines]
        quads.append(f"{ox.Quad(g, RECORD_DIGEST, ox.Literal(digest), g)} .\n")
        quads.append(f"{ox.Triple(g, SEQUENCE, number)} .\n")
        quads.append(f"{ox.Triple(g, RECORD_DIGEST, ox.Literal(digest))} .\n")
        parsed = list(ox.parse("".join(quads), format=ox.RdfFormat.N_QUADS))  # labels kept
        self.store.extend(parsed)  # one transaction: all of the record or nothing
        self._head = (sequence, digest)
        return digest

    def flush(self) -> None:
        """Write what the store keeps in memory to its files. pyoxigraph (RocksDB) holds
        recent writes in memory until then, about 3 MB per evaluation: a long writer
        flushes every few dozen evaluations to keep its memory flat."""
        self.store.flush()

    # ---------------------------------------------------------------- reading

    def query(self, query: Query | str, params: Mapping[str, Any] | None = None) -> Any:
        """Solutions of a query file (a Query, or the name of one of this installation's
        queries) over the store, parameters bound as cmlkb.knowledge.query_files describes."""
        return query_files.solutions(self.store, query, params)

    def evaluation_ids(self) -> list[str]:
        return [r.evaluation_id for r in self.records()]

    def records(self) -> list[Record]:
        """Every evaluation graph in the store (by its graph name), with the chain fields
        found inside it, in sequence order (records without a number last)."""
        out = []
        for graph in self.store.named_graphs():
            if not isinstance(graph, ox.NamedNode) or not graph.value.startswith(
                str(evaluation_iri(""))
            ):
                continue
            ident = self._value(graph, _p("evaluationId"), graph)
            seq = self._value(graph, SEQUENCE, graph)
            out.append(
                Record(
                    ident or graph.value.rsplit("/", 1)[-1],
                    graph,
                    int(seq) if seq is not None else None,
                    self._value(graph, PREVIOUS, graph),
                    self._value(graph, RECORD_DIGEST, graph),
                )
            )
        out.sort(key=lambda r: (r.sequence is None, r.sequence or 0, r.evaluation_id))
        return out

    def _value(
        self, subject: Any, predicate: ox.NamedNode, graph: ox.NamedNode | ox.DefaultGraph
    ) -> str | None:
        for q in self.store.quads_for_pattern(subject, predicate, None, graph):
            return _text(q.object)
        return None

    def index(self) -> dict[str, tuple[int, str]]:
        """The default-graph index: evaluation graph IRI -> (sequence, digest)."""
        out: dict[str, tuple[int, str]] = {}
        for q in self.store.quads_for_pattern(None, SEQUENCE, None, ox.DefaultGraph()):
            digest = self._value(q.subject, RECORD_DIGEST, ox.DefaultGraph()) or ""
            out[_text(q.subject)] = (int(_text(q.object)), digest)
        return out

    def recompute_digest(self, record: Record) -> str:
        triples = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in self.store.quads_for_pattern(None, None, None, record.graph)
            if q.predicate != RECORD_DIGEST
        ]
        return record_digest(_ntriples(triples), record.previous or "")

    def find(self, evaluation_id: str) -> ox.NamedNode:
        """The graph of an evaluation id (a unique prefix of at least 6 characters works)."""
        g = ox.NamedNode(str(evaluation_iri(evaluation_id)))
        if self.store.contains_named_graph(g):
            return g
        matches = [
            r.graph
            for r in self.records()
            if len(evaluation_id) >= 6 and r.evaluation_id.startswith(evaluation_id)
        ]
        if len(matches) == 1:
            return matches[0]
        where = self.path or "the in-memory store"
        raise InvalidInput(
            f"evaluation {evaluation_id!r} is not in the audit store at "
            f"{where}"
            + (" (ambiguous prefix)" if matches else "")
            + "; list the stored evaluations with `cmlkb query evaluations`"
        )

    def literal(self, graph: ox.NamedNode, predicate: ox.NamedNode) -> str:
        value = self._value(graph, predicate, graph)
        if value is None:
            raise CmlkbError(f"record {graph.value} has no {predicate.value}")
        return value

    def optional_literal(self, graph: ox.NamedNode, predicate: ox.NamedNode) -> str | None:
        """The value of `predicate` in record `graph`, or None when the record has none."""
        return self._value(graph, predicate, graph)

    def stored_input(self, graph: ox.NamedNode) -> dict[str, Any]:

        return dict(parse_json(self.literal(graph, INPUT_JSON)))

    def stored_result(self, graph: ox.NamedNode) -> dict[str, Any]:
        return dict(json.loads(self.literal(graph, RESULT_JSON)))

    def result_json(self, evaluation_id: str) -> str | None:
        """The stored result of evaluation `evaluation_id` (the full id) in its canonical
        JSON text, exactly as written; None when the store does not hold it. One lookup,
        no scan: a resumed batch asks this for each record it may already have stored."""
        g = ox.NamedNode(str(evaluation_iri(evaluation_id)))
        if not self.store.contains_named_graph(g):
            return None
        return self._value(g, RESULT_JSON, g)

    def knowledge_files(self, digest: str) -> dict[str, str]:
        """Relative path -> text of each file of a stored knowledge version."""
        fg = files_graph(digest)
        out = {}
        for q in self.store.quads_for_pattern(None, FILE_PATH, None, fg):
            content = self._value(q.subject, FILE_CONTENT, fg)
            out[_text(q.object)] = content or ""
        if not out:
            raise CmlkbError(f"knowledge version {digest} is not in the audit store")
        return out


@contextmanager
def open_store(
    path: str | os.PathLike[str] | None = None, *, create: bool = True
) -> Iterator[AuditStore]:
    """Open the on-disk audit store (created when absent unless create=False)."""
    location = store_path(path)
    if not create and not location.exists():
        raise InvalidInput(
            f"no audit store at {location}: evaluate cases without "
            "--no-store first, or give --store PATH (or set CMLKB_STORE)"
        )
    try:
        store = ox.Store(str(location))
    except OSError as exc:
        raise CmlkbError(
            f"cannot open the audit store at {location}: {exc} (is another "
            "cmlkb process writing to it?)"
        ) from exc
    audit = AuditStore(store, location)
    try:
        yield audit
        store.flush()
    finally:
        # pyoxigraph closes the database (and frees its lock) when the Store is freed:
        # drop every reference, including the one the caller's `as` name keeps.
        audit.store = None  # type: ignore[assignment]
        del store


def memory_store() -> AuditStore:
    """An in-memory store (explaining a case file without storing it)."""
    return AuditStore(ox.Store(), None)


__all__ = [
    "DEFAULT_LOCATION",
    "FLUSH_EVERY",
    "GENESIS",
    "AuditStore",
    "PreparedRecord",
    "Record",
    "memory_store",
    "open_store",
    "prepare_record",
    "record_digest",
    "store_path",
]


def _text(term: Any) -> str:
    """The lexical value of a pyoxigraph term (IRI, blank node or literal)."""
    return str(getattr(term, "value", term))

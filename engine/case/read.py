"""Patient cases in: reading case files, normalising them, and mapping them to RDF.

The case format is contract.md "Case input": its structure is ontology/case.schema.json and
its meaning ontology/case.context.jsonld (a JSON-LD 1.1 context onto the cmlkb ontology).
Every JSON object of a case becomes the RDF node
`https://w3id.org/cmlkb/case/<url-quoted case id>/<json path with / separators>`, so a SHACL
focus node or a provenance premise maps straight back to its place in the input
(`json_path_of`, `iri_of`). Numbers are kept as `decimal.Decimal` from parsing onwards, so
an IS of 0.1 stays exactly 0.1.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef

from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML, case_iri, case_path_parts
from cmlkb.knowledge.vocab import vocabularies

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MAGNITUDE = 40  # to_rdf writes numbers within 1e-40 .. 1e40 (see _lexical)


@dataclass
class CaseInput:
    """One case as read from a file: `source` is the file name (plus ':line' for .jsonl),
    `raw` the parsed JSON (None when it did not parse), `case_id` the `id` if there was a
    string one, `parse_error` a plain message when the content was not JSON."""

    source: str
    raw: object
    case_id: str | None
    parse_error: str | None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str) -> Any:
    """JSON with numbers as Decimal; NaN and Infinity are refused (not JSON)."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def case_input(source: str, text: str) -> CaseInput:
    """One case from its JSON text (a .json file's content or one .jsonl line): never
    raises on bad content; text that is empty or not JSON gives a CaseInput with
    `parse_error` set."""
    if not text.strip():
        return CaseInput(source, None, None, "an empty file")
    try:
        raw = parse_json(text)
    except RecursionError:
        return CaseInput(source, None, None, "not valid JSON: nested too deeply")
    except ValueError as exc:  # json.JSONDecodeError, too-long integers, NaN
        return CaseInput(source, None, None, f"not valid JSON: {exc}")
    case_id = raw.get("id") if isinstance(raw, dict) else None
    return CaseInput(source, raw, case_id if isinstance(case_id, str) else None, None)


def load_case_files(paths_: list[Path]) -> list[CaseInput]:
    """Read .json files (one case each) and .jsonl files (one case per non-blank line).

    Never raises on bad content: a file that cannot be read or is not JSON becomes a
    CaseInput with `parse_error` set."""
    inputs: list[CaseInput] = []
    for path in paths_:
        path = Path(path)
        name = path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            inputs.append(CaseInput(name, None, None, f"cannot read the file: {exc.strerror}"))
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            inputs.append(CaseInput(name, None, None, "not valid JSON: the file is not UTF-8"))
            continue
        if path.suffix.lower() == ".jsonl":
            lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
            if not lines:
                inputs.append(case_input(name, ""))
            for number, line in lines:
                inputs.append(case_input(f"{name}:{number}", line))
        else:
            inputs.append(case_input(name, text))
    return inputs


# --------------------------------------------------------------------------------------
# Mutation names
# --------------------------------------------------------------------------------------


_MUTATION_NAMES: dict[int, tuple[KnowledgeBase, Mapping[str, str]]] = {}


def mutation_names(kb: KnowledgeBase) -> Mapping[str, str]:
    """Every accepted spelling of each known variant -> its short form (skos:notation),
    built once per knowledge base (normalise needs it for every case).

    Accepted: the short form (T315I), HGVS protein with one-letter codes (p.T315I) and the
    knowledge base's three-letter form (p.Thr315Ile), each also in the predicted form with
    parentheses (p.(Thr315Ile))."""
    cached = _MUTATION_NAMES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    names: dict[str, str] = {}
    for term in vocabularies(kb)["mutations"]:
        short = term["code"]
        forms = [short, f"p.{short}"]
        if term.get("hgvs_protein"):
            forms.append(term["hgvs_protein"])
        for form in forms:
            names[form] = short
            if form.startswith("p.") and not form.startswith("p.("):
                names[f"p.({form[2:]})"] = short
    _MUTATION_NAMES[id(kb)] = (kb, MappingProxyType(names))
    return _MUTATION_NAMES[id(kb)][1]


def normalise_mutation(name: str, kb: KnowledgeBase) -> str | None:
    """The short form of a mutation name, or None when the knowledge base does not know it."""
    return mutation_names(kb).get(name.strip())


def _iter_dates(value: Any) -> list[str]:
    """Every ISO date string anywhere in a JSON value."""
    if isinstance(value, dict):
        return [d for v in value.values() for d in _iter_dates(v)]
    if isinstance(value, list):
        return [d for v in value for d in _iter_dates(v)]
    if isinstance(value, str) and _DATE.match(value):
        return [value]
    return []


def latest_date(raw: dict[str, Any]) -> str | None:
    """The latest date in a case (the default of `assessed_on`)."""
    dates = _iter_dates({k: v for k, v in raw.items() if k != "id"})
    return max(dates) if dates else None


def normalise(raw: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    """A deep copy of a (schema-valid) case with mutation names in short form and
    `assessed_on` filled with the latest date of the case when absent. Every other key
    and every JSON path is unchanged; unknown mutation names are left as they are (the
    validation reports them)."""
    case = copy.deepcopy(raw)
    names = mutation_names(kb)
    for analysis in case.get("mutation_analyses") or []:
        if not isinstance(analysis, dict):
            continue
        for variant in analysis.get("variants") or []:
            if isinstance(variant, dict) and isinstance(variant.get("protein"), str):
                variant["protein"] = names.get(variant["protein"].strip(), variant["protein"])
        compound = analysis.get("compound")
        if isinstance(compound, list):
            analysis["compound"] = [
                [names.get(m.strip(), m) if isinstance(m, str) else m for m in group]
                if isinstance(group, list)
                else group
                for group in compound
            ]
    if "assessed_on" not in case:
        latest = latest_date(case)
        if latest is not None:
            case["assessed_on"] = latest
    return case


# --------------------------------------------------------------------------------------
# IRIs and JSON paths
# --------------------------------------------------------------------------------------


def format_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """['therapies', 1, 'start'] -> 'therapies[1].start'; [] -> '' (the case itself)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_path(json_path: str) -> list[str | int]:
    """'therapies[1].start' -> ['therapies', 1, 'start']."""
    parts: list[str | int] = []
    for match in re.finditer(r"\[(\d+)\]|([^.\[\]]+)", json_path):
        parts.append(int(match.group(1)) if match.group(1) is not None else match.group(2))
    return parts


def iri_of(case_id: str, json_path: str | list[str | int] = "") -> URIRef:
    """The IRI of the JSON object at `json_path` in case `case_id` (minted by
    cmlkb.knowledge.namespaces.case_iri)."""
    return case_iri(case_id, parse_path(json_path) if isinstance(json_path, str) else json_path)


def json_path_of(iri: str) -> str:
    """'https://w3id.org/cmlkb/case/case-017/therapies/1' -> 'therapies[1]'."""
    return format_path(case_path_parts(iri))


# --------------------------------------------------------------------------------------
# RDF via the JSON-LD context
# --------------------------------------------------------------------------------------


@cache
def context(root: Path) -> dict[str, Any]:
    """The JSON-LD context of the case format (ontology/case.context.jsonld under the
    knowledge root `root`), read once per root."""
    path = root / "ontology" / "case.context.jsonld"
    return json.loads(path.read_text(encoding="utf-8"))["@context"]


def _prefixes(ctx: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}


@cache
def property_keys(root: Path) -> dict[URIRef, str]:
    """Ontology property IRI -> case JSON key (the inverse of the context under `root`).
    Keys sharing a property (abnormalities) map to the first one listed."""
    ctx = context(root)
    prefixes = _prefixes(ctx)
    inverse: dict[URIRef, str] = {}
    for key, term in ctx.items():
        if key.startswith("@") or not isinstance(term, dict):
            continue
        prefix, _, local = term["@id"].partition(":")
        inverse.setdefault(URIRef(prefixes.get(prefix, prefix + ":") + local), key)
    return inverse


def _lexical(number: Decimal | int) -> str:
    """A number as an xsd:decimal lexical form. Magnitudes are clamped to 1e-40..1e40 with
    sign kept, so a junk value such as 1e-999999 cannot blow up the graph (every range in
    the shapes is far inside these bounds)."""
    d = Decimal(number)
    if not d.is_finite():
        raise ValueError("not a finite number")
    if d != 0 and d.adjusted() < -_MAGNITUDE:
        d = Decimal(1).scaleb(-_MAGNITUDE).copy_sign(d)
    elif d.adjusted() > _MAGNITUDE:
        d = Decimal(1).scaleb(_MAGNITUDE).copy_sign(d)
    return format(d, "f")


# The one key whose value is a list of lists (compound mutations): each inner list is an
# RDF list (a JSON-LD @list), the outer list a set of them.
_LIST_OF_LISTS = "compound"


def _jsonld_value(value: Any, case_id: str, parts: list[str | int]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {"@id": str(iri_of(case_id, parts))}
        for key, item in value.items():
            if key == _LIST_OF_LISTS and isinstance(item, list):
                out[key] = [{"@list": group} for group in item]
            else:
                out[key] = _jsonld_value(item, case_id, [*parts, key])
        return out
    if isinstance(value, list):
        return [_jsonld_value(item, case_id, [*parts, n]) for n, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal | float):
        return _lexical(_decimal(value))
    return value


def _decimal(number: int | Decimal | float) -> Decimal:
    """A JSON number as a Decimal (a float from a Python caller by its shortest repr, so
    15.0 is 15.0, not a binary fraction)."""
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def jsonld_document(normalised: dict[str, Any], root: Path) -> dict[str, Any]:
    """The case as a JSON-LD document: an @id on every object (its case IRI), numbers as
    decimal lexical forms, the compound lists as JSON-LD lists, the context of `root`
    inline. This is what the case means as RDF; case_rdf builds the same triples (plus
    the range types) without a JSON-LD processor (tests/validation/test_rdf_mapping.py
    proves it with rdflib's)."""
    document = _jsonld_value(normalised, str(normalised["id"]), [])
    document["@context"] = context(root)
    document["@type"] = "Case"
    return document


_RANGES: dict[int, tuple[KnowledgeBase, dict[URIRef, URIRef]]] = {}


def _property_ranges(kb: KnowledgeBase) -> dict[URIRef, URIRef]:
    """Case property -> its rdfs:range class in the ontology (cml: classes only), read
    once per knowledge base."""
    cached = _RANGES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    declared = {row["property"]: row["range"] for row in kb.select("engine/property-ranges")}
    ranges: dict[URIRef, URIRef] = {}
    for prop in property_keys(kb.root):
        rng = declared.get(str(prop))
        if rng is not None and rng.startswith(str(CML)):
            ranges[prop] = URIRef(rng)
    _RANGES[id(kb)] = (kb, ranges)
    return ranges


XSD_STRING = ox.NamedNode(f"{XSD}string")
XSD_BOOLEAN = ox.NamedNode(f"{XSD}boolean")
_RDF_TYPE = ox.NamedNode(str(RDF.type))
_RDF_FIRST = ox.NamedNode(str(RDF.first))
_RDF_REST = ox.NamedNode(str(RDF.rest))
_RDF_NIL = ox.NamedNode(str(RDF.nil))


@dataclass(frozen=True)
class _Term:
    """A key of the case format as the JSON-LD context defines it: the property, the
    datatype its text values get (@type), and the class of the nodes it reaches (the
    property's rdfs:range, typing each object of the case)."""

    predicate: ox.NamedNode
    datatype: ox.NamedNode | None
    node_class: ox.NamedNode | None


# The term definition keys and values the builder implements; a context using anything
# else is refused rather than mapped differently from a JSON-LD processor.
_TERM_KEYS = {"@id", "@type", "@container"}
_CONTAINERS = {"@set"}
_CONTEXT_KEYWORDS = {"@version": 1.1, "@protected": True}


@cache
def _context_terms(root: Path) -> tuple[dict[str, tuple[str, str | None]], str]:
    """The context of `root` compiled: JSON key -> (property IRI, datatype IRI or None), and
    the IRI of the term `Case` (the case node's type)."""
    ctx = context(root)
    prefixes = _prefixes(ctx)

    def expand(value: str) -> str:
        prefix, sep, local = value.partition(":")
        if sep and prefix in prefixes:
            return prefixes[prefix] + local
        if not sep or not local.startswith("//"):
            raise CmlkbError(
                f"ontology/case.context.jsonld: {value!r} is neither a full IRI nor a "
                "prefixed name with a prefix of the context"
            )
        return value

    terms: dict[str, tuple[str, str | None]] = {}
    case_class = ""
    for key, term in ctx.items():
        if key.startswith("@") and key not in _CONTEXT_KEYWORDS:
            raise CmlkbError(
                f"ontology/case.context.jsonld: the case RDF mapping does not implement {key}"
            )
        if key in _CONTEXT_KEYWORDS:
            if term != _CONTEXT_KEYWORDS[key]:
                raise CmlkbError(
                    f"ontology/case.context.jsonld: {key} {term!r} is not implemented by the "
                    f"case RDF mapping (expected {_CONTEXT_KEYWORDS[key]!r})"
                )
            continue
        if key in prefixes:
            continue
        if isinstance(term, str) and key == "Case":
            case_class = expand(term)
            continue
        unsupported = (
            [f"a term {key!r} that is not an object"]
            if not isinstance(term, dict)
            else [f"{k} in the term {key!r}" for k in sorted(set(term) - _TERM_KEYS)]
        )
        if isinstance(term, dict):
            container = term.get("@container")
            if container is not None and container not in _CONTAINERS:
                unsupported.append(f"@container {container!r} in the term {key!r}")
            datatype = term.get("@type")
            if datatype is not None and (not isinstance(datatype, str) or datatype[0] == "@"):
                unsupported.append(f"@type {datatype!r} in the term {key!r}")
        if unsupported:
            raise CmlkbError(
                "ontology/case.context.jsonld: the case RDF mapping does not implement "
                + "; ".join(unsupported)
            )
        datatype = term.get("@type")
        terms[key] = (expand(term["@id"]), expand(datatype) if datatype else None)
    if not case_class:
        raise CmlkbError("ontology/case.context.jsonld: no term Case (the case node's type)")
    return terms, case_class


_MAPPINGS: dict[int, tuple[KnowledgeBase, dict[str, _Term], ox.NamedNode]] = {}


def _mapping(kb: KnowledgeBase) -> tuple[dict[str, _Term], ox.NamedNode]:
    """The case format's terms with the range class of each property, once per knowledge
    base."""
    cached = _MAPPINGS.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1], cached[2]
    terms, case_class = _context_terms(kb.root)
    ranges = _property_ranges(kb)
    mapping = {
        key: _Term(
            ox.NamedNode(prop),
            ox.NamedNode(datatype) if datatype else None,
            ox.NamedNode(str(ranges[URIRef(prop)])) if URIRef(prop) in ranges else None,
        )
        for key, (prop, datatype) in terms.items()
    }
    _MAPPINGS[id(kb)] = (kb, mapping, ox.NamedNode(case_class))
    return mapping, ox.NamedNode(case_class)


class _Builder:
    """The triples of one case, as a JSON-LD 1.1 processor makes them from
    `jsonld_document` (objects -> their IRI nodes, text -> literals typed by the term's
    @type, true/false -> xsd:boolean, numbers -> decimal lexical forms, null and unknown
    keys dropped, nested arrays flattened, compound groups -> RDF lists), plus the range
    type of every object."""

    def __init__(self, case_id: str, terms: dict[str, _Term]) -> None:
        self.case_id = case_id
        self.terms = terms
        self.quads: dict[ox.Quad, None] = {}  # an ordered set
        self.iris: dict[str, URIRef] = {}

    def add(self, subject: Any, predicate: ox.NamedNode, obj: Any) -> None:
        self.quads[ox.Quad(subject, predicate, obj)] = None

    def node(self, value: dict[str, Any], parts: list[str | int]) -> ox.NamedNode:
        iri = iri_of(self.case_id, parts)
        self.iris[format_path(parts)] = iri
        subject = ox.NamedNode(iri)
        for key, item in value.items():
            term = self.terms.get(key)
            if term is None:
                continue
            if key == _LIST_OF_LISTS and isinstance(item, list):
                for group in item:
                    self.add(subject, term.predicate, self.rdf_list(term, group))
            else:
                self.values(subject, term, item, [*parts, key])
        return subject

    def values(self, subject: Any, term: _Term, value: Any, parts: list[str | int]) -> None:
        if isinstance(value, list):
            for n, item in enumerate(value):
                self.values(subject, term, item, [*parts, n])
            return
        obj = self.object(term, value, parts)
        if obj is not None:
            self.add(subject, term.predicate, obj)

    def object(self, term: _Term, value: Any, parts: list[str | int]) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            child = self.node(value, parts)
            if term.node_class is not None:
                self.add(child, _RDF_TYPE, term.node_class)
            return child
        if isinstance(value, bool):
            return ox.Literal("true" if value else "false", datatype=term.datatype or XSD_BOOLEAN)
        if isinstance(value, int | Decimal | float):
            value = _lexical(_decimal(value))
        if isinstance(value, str):
            return ox.Literal(value, datatype=term.datatype) if term.datatype else ox.Literal(value)
        raise TypeError(f"{format_path(parts)}: {type(value).__name__} is not a JSON value")

    def rdf_list(self, term: _Term, group: Any) -> Any:
        items = [
            obj
            for item in (group if isinstance(group, list) else [group])
            if (obj := self.list_item(term, item)) is not None
        ]
        head: Any = _RDF_NIL
        for obj in reversed(items):
            cell = ox.BlankNode()
            self.add(cell, _RDF_FIRST, obj)
            self.add(cell, _RDF_REST, head)
            head = cell
        return head

    def list_item(self, term: _Term, item: Any) -> Any:
        """A member of a compound group: kept as the JSON-LD document keeps it (not given
        an @id; the schema allows only mutation names here)."""
        if isinstance(item, dict | list):
            raise TypeError("a compound group holds mutation names only")
        return self.object(term, item, [])


@dataclass
class CaseRDF:
    """A case as RDF, built once by the validation (the case shapes run on `quads`) and
    kept with the validated case, so that provenance reuses it: `quads` are the triples of
    the case (pyoxigraph quads in the default graph), `iris` maps the JSON path of every
    object of the case (format_path form, '' for the case itself) to its IRI."""

    case_id: str
    quads: list[ox.Quad]
    iris: dict[str, URIRef]

    def iri(self, json_path: str) -> URIRef:
        """The IRI of the object at `json_path` (minted only for a path the case lacks)."""
        found = self.iris.get(json_path)
        return found if found is not None else iri_of(self.case_id, json_path)

    @cached_property
    def graph(self) -> Graph:
        """The same triples as an rdflib graph (built on first use, for callers that
        work with rdflib)."""
        graph = Graph()
        graph.bind("cml", CML)
        for quad in self.quads:
            graph.add(
                (rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object))
            )
        return graph


def rdflib_term(term: Any) -> Any:
    """A pyoxigraph term as the rdflib term a JSON-LD or Turtle parser would make (an
    xsd:string literal as a plain one)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype == XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def oxigraph_term(term: Any) -> Any:
    """An rdflib term as a pyoxigraph term (the lexical form of a literal kept)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"{term!r} is not an RDF term")


def case_rdf(normalised: dict[str, Any], kb: KnowledgeBase) -> CaseRDF:
    """The case as RDF (the triples of `jsonld_document` under the JSON-LD context), with
    the IRI of each of its objects. Each node is typed by the rdfs:range of the property
    that reaches it (cml:therapy -> cml:Therapy); the case node is a cml:Case. Built
    straight from the JSON (no JSON-LD processor, no rdflib): about 0.1 ms a case."""
    terms, case_class = _mapping(kb)
    builder = _Builder(str(normalised["id"]), terms)
    root = builder.node(normalised, [])
    builder.add(root, _RDF_TYPE, case_class)
    return CaseRDF(builder.case_id, list(builder.quads), builder.iris)


def to_rdf(normalised: dict[str, Any], kb: KnowledgeBase) -> Graph:
    """The case as an rdflib graph (the triples of case_rdf)."""
    return case_rdf(normalised, kb).graph


# --------------------------------------------------------------------------------------
# Canonical JSON and the input digest
# --------------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """The one canonical JSON form of the project: sorted keys, no spaces, UTF-8 text kept
    as is, Decimal numbers with their exact digits (so parse_json gives back the same
    value). The audit store keeps inputs and results in it and input digests hash it.

    Any other value is written as json.dumps(value, ensure_ascii=False, default=str)
    writes it (a value JSON does not know becomes the JSON string of str(value))."""
    out: list[str] = []
    _canonical_into(value, out)
    return "".join(out)


_encode_text = json.encoder.encode_basestring  # json.dumps(ensure_ascii=False) of a str


def _canonical_into(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_text(value))
    elif isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(sorted(value.items())):
            if n:
                out.append(",")
            out.append(_encode_text(str(key)))
            out.append(":")
            _canonical_into(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _canonical_into(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif type(value) is int:
        out.append(int.__repr__(value))
    else:
        out.append(json.dumps(value, ensure_ascii=False, default=str))


# The form of input_digest: 2 hashes canonical_json; 1 (records written before the
# canonical form was shared) hashed json.dumps(sort_keys, default=str), which wrote
# Decimal numbers as strings. An evaluation records its form (cml:inputDigestVersion;
# absent means 1), and verification accepts both.
INPUT_DIGEST_VERSION = 2


def input_digest(case: dict[str, Any], version: int = INPUT_DIGEST_VERSION) -> str:
    """The digest of a normalised case in digest form `version` (default: the current)."""
    if version == 1:
        canonical = json.dumps(case, sort_keys=True, default=str, separators=(",", ":"))
    elif version == INPUT_DIGEST_VERSION:
        canonical = canonical_json(case)
    else:
        raise ValueError(f"unknown input digest version {version}")
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

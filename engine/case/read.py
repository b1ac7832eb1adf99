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
import warnings
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, URIRef

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML, case_iri, case_path_parts, is_case_iri
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


def mutation_names(kb: KnowledgeBase) -> dict[str, str]:
    """Every accepted spelling of each known variant -> its short form (skos:notation).

    Accepted: the short form (T315I), HGVS protein with one-letter codes (p.T315I) and the
    knowledge base's three-letter form (p.Thr315Ile), each also in the predicted form with
    parentheses (p.(Thr315Ile))."""
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
    return names


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


@cache
def property_keys(root: Path) -> dict[URIRef, str]:
    """Ontology property IRI -> case JSON key (the inverse of the context under `root`).
    Keys sharing a property (abnormalities) map to the first one listed."""
    ctx = context(root)
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}
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


def _as_jsonld(
    value: Any,
    case_id: str,
    parts: list[str | int],
    iris: dict[str, URIRef] | None = None,
) -> Any:
    """The case with an @id on every object and numbers as decimal lexical forms; the
    compound lists (lists of lists) become JSON-LD lists. Each object's IRI is also put
    in `iris` under its JSON path, when given."""
    if isinstance(value, dict):
        iri = iri_of(case_id, parts)
        if iris is not None:
            iris[format_path(parts)] = iri
        out: dict[str, Any] = {"@id": str(iri)}
        for key, item in value.items():
            if key == "compound" and isinstance(item, list):
                out[key] = [{"@list": group} for group in item]
            else:
                out[key] = _as_jsonld(item, case_id, [*parts, key], iris)
        return out
    if isinstance(value, list):
        return [_as_jsonld(item, case_id, [*parts, n], iris) for n, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        return _lexical(value)
    return value


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


@dataclass
class CaseRDF:
    """A case as RDF, built once by the validation (SHACL runs on `graph`) and kept with the
    validated case, so that provenance reuses it: `iris` maps the JSON path of every object
    of the case (format_path form, '' for the case itself) to its IRI."""

    case_id: str
    graph: Graph
    iris: dict[str, URIRef]

    def iri(self, json_path: str) -> URIRef:
        """The IRI of the object at `json_path` (minted only for a path the case lacks)."""
        found = self.iris.get(json_path)
        return found if found is not None else iri_of(self.case_id, json_path)


def case_rdf(normalised: dict[str, Any], kb: KnowledgeBase) -> CaseRDF:
    """The case as RDF through the JSON-LD context, with the IRI of each of its objects.
    Each node is typed by the rdfs:range of the property that reaches it (cml:therapy ->
    cml:Therapy); the case node is a cml:Case."""
    case_id = str(normalised["id"])
    iris: dict[str, URIRef] = {}
    document = _as_jsonld(normalised, case_id, [], iris)
    document["@context"] = context(kb.root)
    document["@type"] = "Case"
    graph = Graph()
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=json.dumps(document), format="json-ld")
    ranges = _property_ranges(kb)
    for _subject, prop, obj in list(graph):
        rng = ranges.get(prop) if isinstance(prop, URIRef) else None
        if rng is not None and isinstance(obj, URIRef) and is_case_iri(obj):
            graph.add((obj, RDF.type, rng))
    graph.bind("cml", CML)
    return CaseRDF(case_id, graph, iris)


def to_rdf(normalised: dict[str, Any], kb: KnowledgeBase) -> Graph:
    """The case as RDF (the graph of case_rdf)."""
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

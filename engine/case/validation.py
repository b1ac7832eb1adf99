"""Validation of patient cases (contract.md "Case input"; `cmlkb validate`).

Layers, each problem reported with the case id, the JSON path, what was found and what
was expected:

1. JSON: the file parses (cmlkb.case.load_case_files).
2. Structure and knowledge (ontology/case.schema.json, JSON Schema 2020-12): types,
   required and unknown keys, the contract's fixed value sets, well-formed dates; the
   schema keyword `x-cmlkb-vocabulary` checks a code against the knowledge base's
   vocabulary (mutation names in short or HGVS protein form), naming the closest known
   codes. Then, in Python, compound members must be among the analysis's variants, and
   case ids must be unique across the files.
3. Shapes (ontology/shapes/case.ttl, SHACL on the case RDF, run by the executor of
   cmlkb.case.shapes, compiled once per knowledge root): numeric ranges, date order, at
   most one open therapy, undetectable results with control copies, and warnings.

Layer 3 runs on every case whose structure is valid (unknown codes do not stop it). Every
check's message lives in one place: the schema translation below (layer 2) or the shape's
sh:message (layer 3).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pyoxigraph as ox
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

from cmlkb.case.read import (
    XSD_STRING,
    CaseInput,
    CaseRDF,
    case_rdf,
    format_path,
    mutation_names,
    normalise,
    oxigraph_term,
    property_keys,
    rdflib_term,
)
from cmlkb.case.shapes import ShapeResult, case_shapes
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import case_id_of, case_path_parts
from cmlkb.knowledge.vocab import VOCABULARY_CLASSES, codes

VOCABULARY_KEYWORD = "x-cmlkb-vocabulary"


@dataclass
class Problem:
    """One problem of one case. `path` is a JSON path (therapies[1].start; '' is the whole
    case); `severity` is 'violation' (blocks evaluation) or 'warning'."""

    case_id: str | None
    source: str
    path: str
    found: str
    expected: str
    message: str
    severity: str = "violation"


@dataclass
class ValidationReport:
    """All problems of all inputs, and the normalised valid cases keyed by case id, with
    the RDF of each (built once for SHACL, reused by provenance)."""

    problems: list[Problem] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    rdf: dict[str, CaseRDF] = field(default_factory=dict)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == "violation" for p in self.problems)

    @property
    def violations(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "violation"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "valid": sorted(self.cases),
            "problems": [asdict(p) for p in self.problems],
        }


def _problem(
    case: CaseInput, path: str, found: str, expected: str, severity: str = "violation"
) -> Problem:
    where = path or "the case"
    return Problem(
        case_id=case.case_id,
        source=case.source,
        path=path,
        found=found,
        expected=expected,
        message=f"{where}: found {found}; expected {expected}",
        severity=severity,
    )


def describe(value: Any) -> str:
    """A short plain description of a JSON value for 'found ...'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + '..."'
    if isinstance(value, list):
        if not value:
            return "an empty list"
        return f"a list of {len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    return type(value).__name__


# --------------------------------------------------------------------------------------
# Layer 2: JSON Schema with the knowledge base's vocabularies
# --------------------------------------------------------------------------------------


@cache
def case_schema(root: Path) -> dict[str, Any]:
    """The case JSON Schema under the knowledge root `root`, read once per root."""
    path = root / "ontology" / "case.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def closest(name: str, known: list[str], n: int = 3) -> list[str]:
    """The known names closest to `name` (always some, when any are known)."""
    found = difflib.get_close_matches(name, known, n=n, cutoff=0.6)
    if len(found) < n:
        rest = difflib.get_close_matches(name, known, n=len(known), cutoff=0.0)
        found += [k for k in rest if k not in found][: n - len(found)]
    return found


class _Vocabularies:
    """The codes a case may use, from the knowledge base (cached per validator)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.mutations = mutation_names(kb)
        self.codes = {name: sorted(codes(kb, name)) for name in VOCABULARY_CLASSES}

    def check(self, name: str, value: str) -> str | None:
        """None when `value` is a known code of vocabulary `name`, else the expectation."""
        if name == "mutations":
            if value.strip() in self.mutations:
                return None
            shorts = self.codes["mutations"]
            if not shorts:
                return self._empty(name)
            near = closest(value.strip(), list(self.mutations))
            suggestions = list(dict.fromkeys(self.mutations[n] for n in near))
            return (
                "a mutation the knowledge base knows, as T315I, p.T315I or p.Thr315Ile; "
                f"closest known: {', '.join(suggestions)} (all: cmlkb vocab)"
            )
        known = self.codes[name]
        if value in known:
            return None
        if not known:
            return self._empty(name)
        return (
            f"a code of the {name} vocabulary; closest known: "
            f"{', '.join(closest(value, known))} (all: cmlkb vocab)"
        )

    @staticmethod
    def _empty(name: str) -> str:
        cls = VOCABULARY_CLASSES[name][0]
        return (
            f"a code of the {name} vocabulary, but the knowledge base has none: "
            f"add individuals of {cls.n3()} with skos:notation to ontology/knowledge/"
        )


_VALIDATORS: dict[int, tuple[KnowledgeBase, Draft202012Validator, _Vocabularies]] = {}


def _validator(kb: KnowledgeBase) -> tuple[Draft202012Validator, _Vocabularies]:
    """The case-schema validator extended with the vocabulary keyword, once per KB."""
    cached = _VALIDATORS.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1], cached[2]
    vocabs = _Vocabularies(kb)

    def vocabulary(
        validator: Any, name: str, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        if isinstance(instance, str):
            expected = vocabs.check(name, instance)
            if expected is not None:
                yield ValidationError(expected)

    cls = jsonschema.validators.extend(Draft202012Validator, {VOCABULARY_KEYWORD: vocabulary})
    checker = FormatChecker(formats=["date"])
    validator = cls(case_schema(kb.root), format_checker=checker)
    _VALIDATORS[id(kb)] = (kb, validator, vocabs)
    return validator, vocabs


_TYPES = {
    "string": "text (a JSON string)",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list [...]",
    "object": "an object {...}",
    "null": "null",
}


def _schema_problems(case: CaseInput, error: ValidationError) -> list[Problem]:
    """Plain-language problems for one JSON Schema error."""
    parts = list(error.absolute_path)
    path = format_path(parts)
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required" and isinstance(instance, dict):
        missing = [k for k in value if k not in instance]
        props = schema.get("properties", {})
        out = []
        for key in missing:
            desc = props.get(key, {}).get("description") if isinstance(props, dict) else None
            expected = f'the required key "{key}"' + (f" ({desc})" if desc else "")
            out.append(_problem(case, format_path([*parts, key]), "nothing", expected))
        return out
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        out = []
        for key in sorted(k for k in instance if k not in known):
            near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f'; did you mean "{near[0]}"?' if near else ""
            expected = f"only known keys ({', '.join(known)}){hint}"
            found = f"the unknown key {describe(key)}"
            out.append(_problem(case, format_path([*parts, key]), found, expected))
        return out
    found = describe(instance)
    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_TYPES.get(t, t) for t in wanted)
    elif kind == "enum":
        expected = "one of: " + ", ".join(str(v) for v in value)
    elif kind in ("pattern", "format") and schema.get("format") == "date":
        expected = (
            "a date written YYYY-MM-DD"
            if kind == "pattern"
            else "a real calendar date written YYYY-MM-DD"
        )
    elif kind == "pattern":
        expected = schema.get("description") or f"text matching {value}"
    elif kind == "minItems":
        expected = f"a list with at least {value} entr{'y' if value == 1 else 'ies'}"
    elif kind == "minLength":
        expected = "a non-empty text"
    elif kind == "maxLength":
        expected = f"a text of at most {value} characters"
    elif kind == "maximum":
        expected = f"a number of at most {value:g}"
    elif kind == "minimum":
        expected = f"a number of at least {value:g}"
    elif kind == "uniqueItems":
        expected = "a list without repeated entries"
    elif kind == VOCABULARY_KEYWORD:
        expected = error.message
    else:
        expected = error.message
    return [_problem(case, path, found, expected)]


def _compound_problems(case: CaseInput, normalised: dict[str, Any], known: set[str]) -> list:
    """Compound members must be among the variants of the same analysis."""
    out = []
    for i, analysis in enumerate(normalised.get("mutation_analyses") or []):
        variants = {v.get("protein") for v in analysis.get("variants") or []}
        for j, group in enumerate(analysis.get("compound") or []):
            for k, member in enumerate(group):
                if member in known and member not in variants:
                    path = format_path(["mutation_analyses", i, "compound", j, k])
                    expected = (
                        f"a mutation also listed in mutation_analyses[{i}].variants "
                        "(a compound mutation is made of variants found in the same analysis)"
                    )
                    out.append(_problem(case, path, describe(member), expected))
    return out


# --------------------------------------------------------------------------------------
# Layer 3: SHACL shapes on the case RDF
# --------------------------------------------------------------------------------------


def _shacl(data: Graph, root: Path) -> Graph:
    """The case shapes of `root` on case RDF given as an rdflib graph (an integrator's, or
    a test's), as a SHACL validation report graph (sh:ValidationResult nodes with
    sh:focusNode, sh:resultPath, sh:value, sh:resultSeverity, sh:resultMessage,
    sh:sourceShape)."""
    quads = [ox.Quad(*(oxigraph_term(t) for t in triple)) for triple in data]
    report = Graph()
    report.bind("sh", SH)
    node = BNode()
    results = case_shapes(root).validate(quads)
    report.add((node, RDF.type, SH.ValidationReport))
    report.add(
        (node, SH.conforms, Literal(not any(r.severity == str(SH.Violation) for r in results)))
    )
    for result in results:
        item = BNode()
        report.add((node, SH.result, item))
        report.add((item, RDF.type, SH.ValidationResult))
        report.add((item, SH.sourceShape, result.source_shape))
        if result.source_constraint is not None:
            report.add((item, SH.sourceConstraint, result.source_constraint))
        report.add((item, SH.sourceConstraintComponent, URIRef(result.component)))
        report.add((item, SH.focusNode, rdflib_term(result.focus)))
        if result.path is not None:
            report.add((item, SH.resultPath, rdflib_term(result.path)))
        if result.value is not None:
            report.add((item, SH.value, rdflib_term(result.value)))
        report.add((item, SH.resultSeverity, URIRef(result.severity)))
        report.add((item, SH.resultMessage, Literal(result.message)))
    return report


def _found(value: Any) -> str:
    """What a shape result found, for 'found ...': a literal's lexical form (text quoted),
    'nothing' for a missing value or a node."""
    if not isinstance(value, ox.Literal):
        return "nothing"
    if value.language or value.datatype == XSD_STRING:
        return describe(value.value)
    return value.value


def _shape_problems(results: list[ShapeResult], case: CaseInput, root: Path) -> list[Problem]:
    """Problems of one case from its shape results: the JSON path from the focus node's
    IRI and the result path, what was found, and the shape's message as what is expected.
    Results on nodes that are not the case's (a blank node of a compound list) are left
    out."""
    keys = property_keys(root)
    out = []
    for result in results:
        focus = result.focus
        if not isinstance(focus, ox.NamedNode) or case_id_of(focus.value) != case.case_id:
            continue
        parts = case_path_parts(focus.value)
        if result.path is not None:
            key = keys.get(URIRef(result.path.value))
            if key is not None:
                parts.append(key)
        severity = "violation" if result.severity == str(SH.Violation) else "warning"
        expected = result.message or "a value that satisfies the case shapes"
        out.append(_problem(case, format_path(parts), _found(result.value), expected, severity))
    return sorted(
        out, key=lambda p: (p.source, p.severity != "violation", p.path, p.expected, p.found)
    )


# --------------------------------------------------------------------------------------
# The whole validation
# --------------------------------------------------------------------------------------


def validate(inputs: list[CaseInput], kb: KnowledgeBase) -> ValidationReport:
    """Validate every input (nothing is skipped after a first problem) and return all
    problems with the normalised valid cases. Never raises on bad case content."""
    report = ValidationReport(checked=len(inputs))
    validator, vocabs = _validator(kb)
    known_mutations = set(vocabs.codes["mutations"])
    structured: list[tuple[CaseInput, dict[str, Any]]] = []
    first_source: dict[str, str] = {}
    for case in inputs:
        if case.parse_error is not None:
            expected = "one case as a JSON object {...} (.jsonl: one per line)"
            report.problems.append(_problem(case, "", case.parse_error, expected))
            continue
        problems: list[Problem] = []
        structural = False  # a vocabulary problem leaves the structure usable for layer 3
        try:
            for error in validator.iter_errors(case.raw):
                structural = structural or error.validator != VOCABULARY_KEYWORD
                for problem in _schema_problems(case, error):
                    # one problem per place (a bad date fails both pattern and format)
                    if all(p.path != problem.path for p in problems):
                        problems.append(problem)
        except RecursionError:
            structural = True
            problems.append(_problem(case, "", "data nested too deeply", "a case object"))
        if case.case_id is not None:
            if case.case_id in first_source:
                problems.append(
                    _problem(
                        case,
                        "id",
                        describe(case.case_id),
                        "a case id not used by another case "
                        f"(also in {first_source[case.case_id]})",
                    )
                )
            else:
                first_source[case.case_id] = case.source
        if not structural:
            normalised = normalise(case.raw, kb)  # type: ignore[arg-type,unused-ignore]
            problems.extend(_compound_problems(case, normalised, known_mutations))
            structured.append((case, normalised))
        report.problems.extend(problems)
    graphs = _validate_shapes(structured, kb, report.problems)
    invalid = {id(p) for p in report.violations}
    bad_sources = {p.source for p in report.problems if id(p) in invalid}
    for (case, normalised), rdf in zip(structured, graphs, strict=True):
        if case.source not in bad_sources and case.case_id not in report.cases:
            report.cases[case.case_id or ""] = normalised
            report.rdf[case.case_id or ""] = rdf
    return report


def _validate_shapes(
    structured: list[tuple[CaseInput, dict[str, Any]]],
    kb: KnowledgeBase,
    problems: list[Problem],
) -> list[CaseRDF]:
    """The case shapes over each structurally valid case, one case at a time (the shapes
    are compiled once per knowledge root: cmlkb.case.shapes). Adds the problems to
    `problems`; returns the RDF of each case (built once, here)."""
    shapes = case_shapes(kb.root)
    graphs: list[CaseRDF] = []
    for case, normalised in structured:
        rdf = case_rdf(normalised, kb)
        graphs.append(rdf)
        problems.extend(_shape_problems(shapes.validate(rdf.quads), case, kb.root))
    return graphs


# --------------------------------------------------------------------------------------
# cmlkb validate
# --------------------------------------------------------------------------------------


def format_text(report: ValidationReport) -> str:
    lines = []
    for p in report.problems:
        who = f"{p.case_id or '(no id)'} ({p.source})"
        prefix = "warning: " if p.severity == "warning" else ""
        lines.append(f"{prefix}{who}: {p.message}")
    invalid = len({p.source for p in report.violations})
    lines.append(
        f"{report.checked} case(s) checked: {report.checked - invalid} valid, {invalid} invalid; "
        f"{len(report.violations)} problem(s), {len(report.warnings)} warning(s)"
    )
    return "\n".join(lines)

"""One namespaces module (issue 10): the prefixes, the IRIs the engine mints and
compact/expand live in cmlkb.knowledge.namespaces and nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import cmlkb
from cmlkb.case.read import iri_of, json_path_of
from cmlkb.knowledge import namespaces as ns

ENGINE = Path(cmlkb.__file__).resolve().parent
MODULE = (ENGINE / "knowledge" / "namespaces.py").resolve()


def test_compact_and_expand_are_inverse_for_every_prefix():
    for prefix, namespace in ns.PREFIXES.items():
        iri = f"{namespace}some-local"
        assert ns.compact(iri) == f"{prefix}:some-local"
        assert ns.expand(f"{prefix}:some-local") == ns.URIRef(iri)
    assert ns.compact("http://example.org/x") == "http://example.org/x"
    assert str(ns.expand("http://example.org/x")) == "http://example.org/x"
    assert ns.compact_text(f"see {ns.DRUG}imatinib and {ns.MUT}T315I") == (
        "see drug:imatinib and mut:T315I"
    )


def test_case_iris_round_trip():
    iri = ns.case_iri("case 017/a", ["therapies", 1, "dose_changes", 0])
    assert str(iri) == "https://w3id.org/cmlkb/case/case%20017%2Fa/therapies/1/dose_changes/0"
    assert ns.case_id_of(iri) == "case 017/a"
    assert ns.case_path_parts(iri) == ["therapies", 1, "dose_changes", 0]
    assert iri_of("case 017/a", "therapies[1].dose_changes[0]") == iri
    assert json_path_of(str(iri)) == "therapies[1].dose_changes[0]"


def test_evaluation_knowledge_and_rule_iris():
    assert ns.compact(str(ns.evaluation_iri("abc"))) == "eval:abc"
    assert str(ns.knowledge_iri("sha256:ff00")) == "https://w3id.org/cmlkb/knowledge/ff00"
    assert ns.compact(str(ns.rule_iri("eln-failure", "2"))) == "rule:eln-failure/v2"


def test_provenance_node_iris():
    iris = ns.provenance_iris("ev 1")
    assert ns.compact(iris.evaluation) == "eval:ev%201"
    assert ns.compact(iris.conclusion("f12")) == "eval:ev%201/conclusion/f12"
    assert ns.compact(iris.firing("f12", 0)) == "eval:ev%201/firing/f12-0"
    assert ns.compact(iris.association("f12", 1)) == "eval:ev%201/firing/f12-1/association"
    assert ns.compact(iris.status("drug/x y")) == "eval:ev%201/status/drug%2Fx%20y"
    assert ns.compact(iris.options) == "eval:ev%201/options"


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_module_but_namespaces_writes_a_project_iri():
    found = [
        f"{path.relative_to(ENGINE)}:{line}"
        for path in sorted(ENGINE.rglob("*.py"))
        if path.resolve() != MODULE
        for line, text in _code_strings(path)
        if ns.BASE in text
    ]
    assert not found, f"project IRIs written outside cmlkb.knowledge.namespaces: {found}"

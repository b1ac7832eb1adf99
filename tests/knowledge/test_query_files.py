"""One door to the SPARQL (issue 10, item 3): every query is a file under queries/, read by
cmlkb.knowledge.query_files with one header grammar; no other engine module holds SPARQL text.

The scanner reads every string literal of engine/**/*.py (f-strings with their holes
filled) and refuses the ones that look like SPARQL; it is shown to catch inline queries
on small examples, so a clean scan means something."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

import cmlkb
from cmlkb.errors import CmlkbError
from cmlkb.knowledge import query_files
from cmlkb.knowledge.base import KnowledgeBase

ENGINE = Path(cmlkb.__file__).resolve().parent
LOADER = Path(query_files.__file__).resolve()

# A query form with a group pattern that names a variable, a prefix declaration, an update.
SPARQL = re.compile(
    r"\b(?:SELECT|CONSTRUCT|DESCRIBE|ASK)\b[^{}]*?\{[^}]*\?\w"
    r"|\bPREFIX\s+[\w-]*:\s*<"
    r"|\b(?:INSERT|DELETE)\s+(?:DATA\s*)?\{"
    r"|\bWHERE\s*\{\s*(?:GRAPH\b|VALUES\b|\?\w|<)",
    re.IGNORECASE,
)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal with its line; an f-string's holes become ?hole."""
    out: list[tuple[int, str]] = []
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append(value.value)
                else:
                    parts.append("?hole")
            out.append((node.lineno, "".join(parts)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            out.append((node.lineno, node.value))
    return out


def inline_sparql(source: str, where: str = "<string>") -> list[str]:
    """`where:line: text` for every string literal of `source` that looks like SPARQL."""
    found = []
    for line, text in _strings(ast.parse(source)):
        m = SPARQL.search(text)
        if m:
            found.append(f"{where}:{line}: {text[m.start() : m.start() + 60]!r}")
    return found


# ---------------------------------------------------------------------- the scanner


def test_no_engine_module_but_the_loader_holds_sparql() -> None:
    modules = [p for p in sorted(ENGINE.rglob("*.py")) if p.resolve() != LOADER]
    assert len(modules) > 10
    found = [
        hit
        for path in modules
        for hit in inline_sparql(path.read_text(encoding="utf-8"), str(path.relative_to(ENGINE)))
    ]
    assert found == [], "SPARQL written in Python; move it to queries/ and load it:\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize(
    "source",
    [
        'Q = """\nPREFIX cml: <https://w3id.org/cmlkb/ontology#>\n'
        'SELECT ?x WHERE { ?x a cml:Drug }"""',
        'rows = kb.select("SELECT ?property ?range WHERE { ?property ?p ?range }")',
        'rows = kb.select(f"SELECT ?s WHERE {{ ?s a <{CML.Source}> }}")',
        "q = f'''SELECT ?code WHERE {{ ?x a cml:{cls} ; skos:notation ?code . }}'''",
        'q = "select ?s where { ?s ?p ?o }"',
        'q = "ASK { ?s a <https://w3id.org/cmlkb/ontology#Drug> }"',
        'q = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"',
        'q = "SELECT * WHERE { GRAPH ?e { ?e ?p ?o } }"',
        'q = "INSERT DATA { <a> <b> <c> }"',
        'q = "SELECT ?n ?d " "WHERE { ?e <%s> ?n }" % SEQ',
        'QUERY = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>"',
        "def f():\n    '''doc'''\n    return store.query(\"SELECT ?v WHERE { <%s> ?p ?v }\" % iri)",
    ],
)
def test_the_scanner_catches_an_inline_query(source: str) -> None:
    assert inline_sparql(source), source


@pytest.mark.parametrize(
    "source",
    [
        '"""QC queries (queries/qc/*.rq): SPARQL SELECTs over the whole graph."""',
        'x = "select the default guideline (eln-2020) when none is given"',
        'msg = f"query {name}: a parameterised query needs a WHERE clause"',
        'rows = kb.select("engine/value-set-ranks")',
        'doc = "the ASK of the user { see below }"',
    ],
)
def test_the_scanner_lets_prose_and_query_names_pass(source: str) -> None:
    assert inline_sparql(source) == []


# ----------------------------------------------------------------- the header grammar


def test_every_query_file_follows_the_one_header_grammar() -> None:
    queries = list(query_files.all_queries())
    assert {q.name.split("/")[0] for q in queries} >= {"app", "audit", "engine", "explain", "qc"}
    for query in queries:
        assert query.title and query.why, query.path
        body = "\n".join(line for line in query.text.splitlines() if not line.startswith("#"))
        for p in query.parameters:
            assert re.search(rf"\?{p.name}\b", body), f"{query.name}: parameter {p.name} unused"
        for column in query.columns:
            assert column.startswith("?") and column in body, f"{query.name}: column {column}"
        assert not query.severity or query.name.startswith("qc/"), query.name


def test_the_shipped_files_use_the_canonical_keys() -> None:
    for path in sorted((query_files.installation_root() / "queries").rglob("*.rq")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            assert not line.startswith("# purpose:"), f"{path}: write # why:"


def write(tmp_path: Path, text: str, name: str = "q.rq") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_header_is_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# title:   drugs\n"
        "# why:     a test that\n"
        "#          continues\n"
        "# parameters:\n"
        "#   drug (text, required): the drug\n"
        "#   current (bool, optional): only the current one\n"
        "# columns: ?x\n"
        "#          ?y\n"
        "SELECT ?x ?y WHERE { ?x ?drug ?y }\n",
    )
    q = query_files.read(path)
    assert (q.name, q.title, q.why) == (f"{tmp_path.name}/q", "drugs", "a test that continues")
    assert [(p.name, p.type, p.required) for p in q.parameters] == [
        ("drug", "text", True),
        ("current", "bool", False),
    ]
    assert q.columns == ("?x", "?y")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("# title: t\n", "lacks # why:"),
        ("# why: w\n", "lacks # title:"),
        ("# title: t\n# why: w\n# author: me\n", "unknown header key 'author'"),
        ("# title: t\n# why: w\n# parameters:\n#   x (number, required): n\n", "the types are"),
        ("# title: t\n# why: w\n#a stray line\n", "not a header line"),
    ],
)
def test_a_malformed_header_is_refused(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, header + "SELECT ?x WHERE { ?x ?p ?o }\n")
    with pytest.raises(CmlkbError, match=re.escape(message)):
        query_files.read(path)


def test_an_older_copy_saying_purpose_is_read(tmp_path: Path) -> None:
    """Knowledge copies kept in the audit store before the grammar was one say # purpose:."""
    path = write(tmp_path, "# title: t\n# purpose: p\nSELECT ?x WHERE { ?x ?p ?o }\n")
    assert query_files.read(path).why == "p"


def test_a_key_given_again_continues_its_value(tmp_path: Path) -> None:
    path = write(
        tmp_path, "# why: first\n# title: t\n# why: second\nSELECT ?x WHERE { ?x ?p ?o }\n"
    )
    assert query_files.read(path).why == "first second"


def test_a_query_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "# title: t\n# why: w\nSELECT ?x WHERE { ?x ?p ?o }\n")
    first = query_files.read(path)
    assert query_files.read(path) is first
    write(tmp_path, "# title: changed\n# why: w\nSELECT ?x WHERE { ?x ?p ?o . }\n")
    assert query_files.read(path).title == "changed"
    assert query_files.load("engine/sources") is query_files.load("engine/sources")


def test_an_unknown_name_is_an_error() -> None:
    with pytest.raises(CmlkbError, match="no query 'engine/nothing'"):
        query_files.load("engine/nothing")


# ------------------------------------------------------------------------ binding


@pytest.fixture
def store() -> ox.Store:
    s = ox.Store()
    ex = "http://example.org/"
    for name, colour, current in (("a", "red", True), ("b", "blue", False), ("c", "red", False)):
        s.add(ox.Quad(ox.NamedNode(ex + name), ox.NamedNode(ex + "colour"), ox.Literal(colour)))
        s.add(ox.Quad(ox.NamedNode(ex + name), ox.NamedNode(ex + "current"), ox.Literal(current)))
    return s


@pytest.fixture
def colours(tmp_path: Path) -> query_files.Query:
    path = write(
        tmp_path,
        "# title: things by colour\n"
        "# why:   the binding tests\n"
        "# parameters:\n"
        "#   colour (text, optional): only things of this colour\n"
        "#   current (bool, optional): only things whose current flag is this\n"
        "# columns: ?thing\n"
        "PREFIX ex: <http://example.org/>\n"
        "SELECT ?thing WHERE {\n"
        "  ?thing ex:colour ?c .\n"
        "  FILTER (!BOUND(?colour) || ?c = ?colour)\n"
        "  FILTER (!BOUND(?current) || EXISTS { ?thing ex:current ?current })\n"
        "} ORDER BY ?thing\n",
    )
    return query_files.read(path)


def things(store: ox.Store, query: query_files.Query, params: dict | None = None) -> list[str]:
    return [
        s["thing"].value.rsplit("/", 1)[-1] for s in query_files.solutions(store, query, params)
    ]


def test_an_unbound_optional_parameter_ranges_over_the_data(store, colours) -> None:
    assert things(store, colours) == ["a", "b", "c"]
    assert things(store, colours, {"colour": "red"}) == ["a", "c"]
    assert things(store, colours, {"colour": "red", "current": True}) == ["a"]
    assert things(store, colours, {"current": False}) == ["b", "c"]


def test_a_list_binds_one_row_per_value(store, colours) -> None:
    assert things(store, colours, {"colour": ["blue", "red"]}) == ["a", "b", "c"]
    assert 'VALUES (?colour) { ("blue") ("red") }' in colours.bind({"colour": ["blue", "red"]})


def test_a_value_is_a_term_never_query_text(store, colours) -> None:
    hostile = 'red") } UNION { ?thing ?p ?o } #'
    assert things(store, colours, {"colour": hostile}) == []
    with pytest.raises(ValueError):
        query_files.solutions(
            store, query_files.load("engine/knowledge-version"), {"ontology": "x> <y"}
        )


def test_parameters_are_checked(store, colours) -> None:
    with pytest.raises(CmlkbError, match="unknown parameter 'color'"):
        things(store, colours, {"color": "red"})
    with pytest.raises(CmlkbError, match="'current' \\(bool\\) cannot take 'yes'"):
        things(store, colours, {"current": "yes"})
    with pytest.raises(CmlkbError, match="parameter 'ontology' is required"):
        query_files.solutions(store, "engine/knowledge-version")


def test_values_go_into_the_outer_where_group_not_a_comment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# title: t\n# why: WHERE { in the header is prose\n"
        "# parameters:\n#   x (text, required): x\n"
        "SELECT ?x WHERE { ?s ?p ?x }\n",
    )
    bound = query_files.read(path).bind({"x": "v"})
    assert bound.endswith('SELECT ?x WHERE { VALUES (?x) { ("v") } ?s ?p ?x }\n')


# --------------------------------------------------------------- the engine queries


def test_every_engine_query_is_used_and_runs(kb: KnowledgeBase) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in ENGINE.rglob("*.py"))
    engine = query_files.folder("engine")
    assert engine
    for query in engine:
        assert f'"{query.name}"' in sources, f"{query.name} is not used by the engine"
        required = {p.name for p in query.parameters if p.required}
        if not required:
            query_files.solutions(kb.store, query)  # valid SPARQL, a SELECT
    guideline = "https://w3id.org/cmlkb/ontology#Guideline"
    eln = {"class": guideline, "family": "eln"}
    assert kb.select("engine/individual-codes", {**eln, "isDefault": True}) == [
        {"code": "eln-2020"}  # the contract's default edition
    ]
    assert {"eln-2013", "eln-2020"} <= {
        r["code"] for r in kb.select("engine/individual-codes", eln)
    }

"""The layers of engine/ (imported as cmlkb), enforced: the import-linter contract in
pyproject.toml passes on the code as it is, and fails on a deliberate back-edge (a lower
layer importing a higher one) in a copy of the package. Domain modules never import a
front door, and no module hides a cycle in a function-local import."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path, cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(cwd)}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_layers_contract_is_kept():
    out = _lint(ROOT / "pyproject.toml", ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def _copy_package(tmp_path: Path) -> Path:
    """engine/ copied as an importable package `cmlkb` under tmp_path, with the project's
    contract beside it."""
    shutil.copytree(ENGINE, tmp_path / "cmlkb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_back_edge_breaks_the_contract(tmp_path):
    where = _copy_package(tmp_path)
    result = where / "cmlkb" / "results" / "result.py"
    # the results layer reaching up into the pipeline: forbidden
    result.write_text("import cmlkb.pipeline\n" + result.read_text(encoding="utf-8"))
    out = _lint(where / "pyproject.toml", where, pythonpath=str(where))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "BROKEN" in out.stdout
    assert "cmlkb.results.result -> cmlkb.pipeline" in out.stdout


def test_the_unchanged_copy_keeps_the_contract(tmp_path):
    # the copy itself is analysed (not the installed package): without the back-edge it
    # passes, so the failure above is the back-edge's
    where = _copy_package(tmp_path)
    out = _lint(where / "pyproject.toml", where, pythonpath=str(where))
    assert out.returncode == 0, out.stdout + out.stderr


def _local_cmlkb_imports(path: Path, base: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cmlkb"):
                    found.append(f"{path.relative_to(base)}:{node.lineno} from {node.module}")
                if isinstance(node, ast.Import) and any(
                    a.name.startswith("cmlkb") for a in node.names
                ):
                    found.append(f"{path.relative_to(base)}:{node.lineno} import")
    return found


def test_no_function_local_imports_of_cmlkb():
    found = [hit for p in sorted(ENGINE.rglob("*.py")) for hit in _local_cmlkb_imports(p)]
    assert not found, "function-local imports of cmlkb (a cycle hidden?):\n" + "\n".join(found)


def test_the_scanner_sees_a_function_local_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cmlkb.pipeline import render\n    return render\n")
    assert _local_cmlkb_imports(module, tmp_path) == ["m.py:2 from cmlkb.pipeline"]


def test_domain_modules_never_import_a_front_door():
    for path in sorted(ENGINE.rglob("*.py")):
        if "interfaces" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("cmlkb.interfaces"), path

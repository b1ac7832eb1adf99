"""The benchmark's modules (bench/*.py, scripts rather than a package) loaded by path, once
per test session, for the tests that use the case generator or the baselines."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


@cache
def bench_module(name: str) -> ModuleType:
    """bench/<name>.py as a module (e.g. "generate", "baselines")."""
    spec = importlib.util.spec_from_file_location(f"cmlkb_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module

"""Cohorts and runs for the batch tests: cohorts come from the benchmark's generator
(bench/generate.py, with --invalid-every's invalid records), runs go through the real
`cmlkb` command, in this process or in a child process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cmlkb.interfaces.cli import main
from cmlkb.knowledge.base import KnowledgeBase
from tests.benchkit import bench_module

ROOT = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    return bench_module("generate")


def cohort_lines(kb: KnowledgeBase, n: int, seed: int, invalid_every: int = 0) -> list[str]:
    return list(generator().cohort_lines(kb, n, seed, invalid_every))


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


def cmlkb(*args: str | Path) -> Run:
    """`cmlkb ARGS...` in this process (its workers are child processes)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


def command(*args: str | Path) -> list[str]:
    """The argv of `cmlkb ARGS...` as a child process."""
    return [sys.executable, "-m", "cmlkb.interfaces.cli", *(str(a) for a in args)]


def child(*args: str | Path, **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CMLKB_HOME", "CMLKB_STORE")}
    return subprocess.Popen(
        command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def state(out: Path) -> dict[str, Any]:
    return dict(json.loads(out.with_name(out.name + ".state.json").read_text()))

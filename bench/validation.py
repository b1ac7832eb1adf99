"""Validation cost per case, by layer, in one warm process (issue 11 item 1, issue 16 item 3).

    python bench/validation.py [--cases 200] [--seed 0] [--repeat 3] [--sizes 10,100,1000]

1. `validate()` one case per call on `--cases` generated cases (bench/generate.py), after
   one warm-up call; the best of `--repeat` passes, as ms/case.
2. The same cases layer by layer: JSON Schema with the vocabularies, normalise, the case
   RDF (case_rdf), the case shapes (core constraints in Python and SPARQL constraints on
   pyoxigraph, cmlkb.case.shapes), each ms/case.
3. One case (examples/cases/01-optimal-responder.json) with N BCR::ABL1 results for each N
   of `--sizes`, on N distinct dates and on 10 dates (duplicates: warnings): ms per case
   and per result, to show how validation grows with the size of a case.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from generate import as_inputs, generate_cases  # bench/ is sys.path[0] when run as a script

from cmlkb.case.read import CaseInput, case_rdf, normalise, parse_json
from cmlkb.case.shapes import case_shapes
from cmlkb.case.validation import _validator, validate
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cases" / "01-optimal-responder.json"


def _best(repeat: int, count: int, run: Callable[[], object]) -> float:
    """The best of `repeat` timings of `run`, in ms per item (`count` items per run)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / count * 1000


def sized_case(n: int, dates: int) -> CaseInput:
    """The example case with `n` BCR::ABL1 results spread over `dates` dates."""
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    start = date.fromisoformat(case["therapies"][0]["start"])
    case["id"] = f"sized-{n}-{dates}"
    case.pop("assessed_on", None)
    case["bcr_abl1"] = [
        {"date": (start + timedelta(days=30 + i % dates)).isoformat(), "is_percent": 0.05}
        for i in range(n)
    ]
    raw = parse_json(json.dumps(case))
    return CaseInput(f"{case['id']}.json", raw, raw["id"], None)


def layers(kb: KnowledgeBase, inputs: list[CaseInput], repeat: int) -> dict[str, float]:
    validator, _ = _validator(kb)
    shapes = case_shapes(kb.root)
    n = len(inputs)
    normalised = [normalise(c.raw, kb) for c in inputs]  # type: ignore[arg-type]
    graphs = [case_rdf(c, kb) for c in normalised]
    out = {
        "validate": _best(repeat, n, lambda: [validate([c], kb) for c in inputs]),
        "json schema + vocabularies": _best(
            repeat, n, lambda: [list(validator.iter_errors(c.raw)) for c in inputs]
        ),
        "normalise": _best(repeat, n, lambda: [normalise(c.raw, kb) for c in inputs]),  # type: ignore[arg-type]
        "case RDF": _best(repeat, n, lambda: [case_rdf(c, kb) for c in normalised]),
        "case shapes": _best(repeat, n, lambda: [shapes.validate(g.quads) for g in graphs]),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args(argv)
    kb = load_knowledge()
    inputs = as_inputs(generate_cases(kb, args.cases, args.seed))
    started = time.perf_counter()
    first = validate(inputs[:1], kb)
    print(f"first validate() of the process: {(time.perf_counter() - started) * 1000:.0f} ms")
    if not first.ok:
        raise SystemExit(f"a generated case is invalid: {first.problems}")
    print(f"{args.cases} generated cases (seed {args.seed}), one per validate() call, ms/case:")
    for name, ms in layers(kb, inputs, args.repeat).items():
        print(f"  {name:28s} {ms:7.3f}")
    print("one case with N BCR::ABL1 results (example 01), ms (us per result):")
    validator, _ = _validator(kb)
    shapes = case_shapes(kb.root)
    for dates in ("N", "10"):
        for n in (int(s) for s in args.sizes.split(",")):
            case = sized_case(n, n if dates == "N" else min(10, n))
            report: dict[str, Any] = {}

            def run(case: CaseInput = case, report: dict[str, Any] = report) -> None:
                report["r"] = validate([case], kb)

            total = _best(args.repeat, 1, run)
            quads = case_rdf(normalise(case.raw, kb), kb).quads  # type: ignore[arg-type]
            schema = _best(args.repeat, 1, lambda c=case: list(validator.iter_errors(c.raw)))
            shaped = _best(args.repeat, 1, lambda q=quads: shapes.validate(q))
            warnings = len(report["r"].warnings)
            print(
                f"  N={n:5d} on {dates:>2s} dates: validate {total:8.1f} ({total / n * 1000:5.0f})"
                f" | JSON Schema {schema:7.1f} ({schema / n * 1000:4.0f})"
                f" | case shapes {shaped:7.1f} ({shaped / n * 1000:4.0f}) | {warnings} warnings"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

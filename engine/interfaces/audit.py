"""`cmlkb replay`, `cmlkb impact` and `cmlkb audit verify`: the auditor's commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cmlkb.errors import InvalidInput
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge
from cmlkb.pipeline import evaluate_case
from cmlkb.provenance.audit import impact, render_report, replay, verify
from cmlkb.provenance.store import open_store


def evaluate_again(
    case: dict[str, Any], kb: KnowledgeBase, selection: dict[str, str], evaluation_id: str
) -> dict[str, Any]:
    """The pipeline's evaluation, as replay and impact re-run a stored case."""
    return evaluate_case(case, kb, selection, evaluation_id=evaluation_id).result


def run_replay(args: argparse.Namespace) -> int:
    with open_store(args.store, create=False) as store:
        current = load_knowledge(args.knowledge_root, args.cache_dir) if args.with_current else None
        report = replay(store, args.evaluation, evaluate_again, current)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_report(report, args.with_current))
    return 0 if report.identical or args.with_current else 1


def run_impact(args: argparse.Namespace) -> int:
    current = load_knowledge(args.knowledge_root, args.cache_dir)
    with open_store(args.store, create=False) as store:
        reports = impact(store, args.since, current, evaluate_again)
    changed = [r for r in reports if not r.identical]
    if args.format == "json":
        sys.stdout.write(
            json.dumps(
                {
                    "since": args.since,
                    "current": current.version,
                    "evaluations": len(reports),
                    "changed": [r.as_json() for r in changed],
                },
                indent=2,
            )
            + "\n"
        )
        return 0
    out = [
        f"impact of knowledge {current.version} ({current.digest[:19]}) on {len(reports)} "
        f"stored evaluation(s) made with knowledge {args.since} or older: "
        f"{len(changed)} changed, in {len({r.case for r in changed})} case(s)"
    ]
    for r in changed:
        out.append(render_report(r, True).rstrip())
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def run_audit(args: argparse.Namespace) -> int:
    if args.action != "verify":
        raise InvalidInput(f"unknown audit action {args.action!r}; expected verify")
    with open_store(args.store, create=False) as store:
        count, problems = verify(store)
        head = store.head()
    if args.format == "json":
        sys.stdout.write(
            json.dumps(
                {
                    "records": count,
                    "ok": not problems,
                    "head": head[1],
                    "problems": [p.__dict__ for p in problems],
                },
                indent=2,
            )
            + "\n"
        )
    elif problems:
        sys.stdout.write(
            f"audit store: {count} record(s), {len(problems)} problem(s)\n"
            + "".join(f"  {p.kind}: {p.message}\n" for p in problems)
        )
    else:
        sys.stdout.write(f"audit store: {count} record(s), hash chain intact (head {head[1]})\n")
    return 1 if problems else 0

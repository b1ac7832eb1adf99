"""`cmlkb explain EVALUATION_ID_OR_CASE_FILE --drug DRUG [--why-not]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cmlkb.errors import InvalidInput
from cmlkb.knowledge.base import load_knowledge
from cmlkb.pipeline import evaluate_case, selection_for, validated
from cmlkb.provenance.explain import explanation, graph_into, render_text
from cmlkb.provenance.store import memory_store, open_store


def run(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.suffix.lower() in (".json", ".jsonl") or target.is_file():
        if not target.is_file():
            raise InvalidInput(f"{args.target}: no such case file")
        kb = load_knowledge(args.knowledge_root, args.cache_dir)
        selection = selection_for(kb, args.guideline)
        cases = validated([target], kb)
        if len(cases) != 1:
            raise InvalidInput(f"{args.target}: explain takes one case; found {len(cases)}")
        evaluation = evaluate_case(cases[0], kb, selection)
        store = memory_store()
        graph = graph_into(store, evaluation, kb)
        exp = explanation(store, graph, args.drug, args.why_not, root=kb.root)
    else:
        with open_store(args.store, create=False) as store:
            exp = explanation(
                store, store.find(args.target), args.drug, args.why_not, root=args.knowledge_root
            )
    if args.format == "json":
        sys.stdout.write(json.dumps(exp, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(exp))
    return 0

"""`cmlkb evaluate FILE... [--format ...] [--no-store]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmlkb.knowledge.base import load_knowledge
from cmlkb.pipeline import evaluate_case, render, selection_for, store_evaluations, validated
from cmlkb.provenance.store import open_store


def run(args: argparse.Namespace) -> int:
    kb = load_knowledge(args.knowledge_root, args.cache_dir)
    selection = selection_for(kb, args.guideline, args.nccn, args.classification)
    cases = validated([Path(f) for f in args.files], kb)
    evaluations = [evaluate_case(case, kb, selection) for case in cases]
    if not args.no_store:
        with open_store(args.store) as store:
            store_evaluations(evaluations, kb, store, args.format)
    sys.stdout.write(render(evaluations, kb, args.format))
    return 0

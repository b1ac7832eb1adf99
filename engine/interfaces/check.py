"""`cmlkb check [--format text|json] [--no-reasoner] [--root DIR]`: exit 1 on a violation."""

from __future__ import annotations

import sys
import time
from argparse import Namespace
from pathlib import Path

from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import load_knowledge, load_knowledge_from
from cmlkb.reasoning.check import check_knowledge, format_json, format_text, has_violation


def run(args: Namespace) -> int:
    started = time.perf_counter()
    root = getattr(args, "root", None)
    if root:
        root_path = Path(root)
        if not (root_path / "ontology").is_dir():
            raise CmlkbError(f"--root {root}: no ontology/ folder there")
        kb = load_knowledge_from(root_path)
    else:
        kb = load_knowledge(args.knowledge_root)
    findings = check_knowledge(
        kb,
        reasoner=not getattr(args, "no_reasoner", False),
        fallback_root=args.knowledge_root,
    )
    seconds = time.perf_counter() - started
    formatter = format_json if getattr(args, "format", "text") == "json" else format_text
    print(formatter(kb, findings, seconds), file=sys.stdout)
    return 1 if has_violation(findings) else 0

"""`cmlkb validate FILE... [--format text|json]`: exit 2 on any violation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cmlkb.case.read import load_case_files
from cmlkb.case.validation import format_text, validate
from cmlkb.knowledge.base import load_knowledge


def run(args: argparse.Namespace) -> int:
    inputs = load_case_files([Path(f) for f in args.files])
    report = validate(inputs, load_knowledge(args.knowledge_root))
    if getattr(args, "format", "text") == "json":
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        print(format_text(report))
    sys.stdout.flush()
    return 0 if report.ok else 2

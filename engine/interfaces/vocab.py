"""`cmlkb vocab [--format text|json]`: the controlled vocabularies, mutations and drugs."""

from __future__ import annotations

import argparse
import json

from cmlkb.knowledge.base import load_knowledge
from cmlkb.knowledge.vocab import format_text, vocabularies


def run(args: argparse.Namespace) -> int:
    vocabs = vocabularies(load_knowledge(args.knowledge_root))
    if getattr(args, "format", "text") == "json":
        print(json.dumps(vocabs, indent=2, ensure_ascii=False))
    else:
        print(format_text(vocabs), end="")
    return 0

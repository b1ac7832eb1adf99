"""`cmlkb query NAME [--param KEY=VALUE ...]`: a named SPARQL query against the audit store."""

from __future__ import annotations

import argparse
import json
import sys

from cmlkb.provenance.queries import format_table, load_query, parse_params, run_query
from cmlkb.provenance.store import open_store


def run(args: argparse.Namespace) -> int:
    params = parse_params(args.param)
    root = args.knowledge_root
    load_query(args.name, root)  # an unknown name is a usage error before the store is opened
    with open_store(args.store, create=False) as store:
        columns, rows = run_query(store, args.name, params, root)
    if args.format == "json":
        sys.stdout.write(
            json.dumps(
                {"query": args.name, "columns": columns, "rows": rows}, indent=2, ensure_ascii=False
            )
            + "\n"
        )
    else:
        sys.stdout.write(format_table(columns, rows))
    return 0

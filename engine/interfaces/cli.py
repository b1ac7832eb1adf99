"""The `cmlkb` command (contract: commands and exit codes).

Exit codes: 0 done, 2 invalid input or usage, 1 internal error. A user error prints a
message naming the case, the field and what was expected; never a traceback.
Each sub-command lives in its own module and is imported only when used, so that
`cmlkb validate` does not pay for the rule engine.

The knowledge root (the folder with ontology/, rules/ and queries/) is chosen here and
only here: `$CMLKB_HOME` when set (a copy of the knowledge under review, an older
release), else the checkout beside the package. Every command gets it as
`args.knowledge_root` and passes it down; no other module reads the environment for it.
The audit store likewise: `--store`, else `$CMLKB_STORE` when set, as `args.store` (None:
the store's own default, ./audit-store).
So is the disk cache of what is derived from the knowledge (`args.cache_dir`:
$XDG_CACHE_HOME/cmlkb, `CMLKB_CACHE=off` for none), which the commands that evaluate
pass to `load_knowledge`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from cmlkb.errors import CmlkbError
from cmlkb.knowledge.paths import default_root

DISCLAIMER = "cmlkb is decision support for clinicians, not a medical device."

# sub-command -> (module, function, help). Each function takes the parsed arguments and
# returns the exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "evaluate": ("cmlkb.interfaces.evaluate", "run", "evaluate cases and recommend"),
    "batch": (
        "cmlkb.interfaces.batch",
        "run",
        "evaluate a cohort on all cores (or a Dask cluster), resumable",
    ),
    "explain": ("cmlkb.interfaces.explain", "run", "explain why a drug has its status"),
    "validate": ("cmlkb.interfaces.validate", "run", "check cases without evaluating them"),
    "check": ("cmlkb.interfaces.check", "run", "check the knowledge base itself"),
    "query": ("cmlkb.interfaces.query", "run", "run a named SPARQL query against the audit store"),
    "vocab": ("cmlkb.interfaces.vocab", "run", "list controlled vocabularies, mutations and drugs"),
    "replay": (
        "cmlkb.interfaces.audit",
        "run_replay",
        "re-evaluate a stored evaluation and confirm the identical result",
    ),
    "impact": (
        "cmlkb.interfaces.audit",
        "run_impact",
        "re-evaluate stored evaluations with today's knowledge; what changed",
    ),
    "audit": ("cmlkb.interfaces.audit", "run_audit", "verify the audit store's hash chain"),
}
STORE_HELP = "audit store folder (default: $CMLKB_STORE, else ./audit-store)"
HOME_VAR = "CMLKB_HOME"
STORE_VAR = "CMLKB_STORE"
CACHE_VAR = "CMLKB_CACHE"


def knowledge_root(environ: Mapping[str, str] | None = None) -> Path:
    """The knowledge root of this run: $CMLKB_HOME when set, else the checkout."""
    home = (os.environ if environ is None else environ).get(HOME_VAR)
    return Path(home) if home else default_root()


def store_location(flag: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The audit store of this run: --store when given, else $CMLKB_STORE when set, else
    None (cmlkb.provenance.store's default, ./audit-store)."""
    return flag or (os.environ if environ is None else environ).get(STORE_VAR) or None


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where what is derived from the knowledge (compiled rules, knowledge facts) is kept
    between runs (cmlkb.knowledge.cache): $XDG_CACHE_HOME/cmlkb, by default
    ~/.cache/cmlkb; None (no disk cache) when $CMLKB_CACHE is `off`."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_VAR, "").strip().lower() == "off":
        return None
    base = env.get("XDG_CACHE_HOME", "")
    if not Path(base).is_absolute():  # unset, empty or relative: the XDG default
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder to be found: no disk cache
            return None
    return Path(base) / "cmlkb"


def _evaluation_options(p: argparse.ArgumentParser) -> None:
    """The options `evaluate` and `batch` share: the selection and the audit store."""
    p.add_argument("--guideline", default=None, help="eln-2020 (default), eln-2013")
    p.add_argument("--nccn", default=None, help="NCCN edition reported beside ELN")
    p.add_argument(
        "--classification",
        default=None,
        help="phase classification: eln (default), who-2016, who-2022, icc-2022",
    )
    p.add_argument("--no-store", action="store_true", help="do not keep the evaluations")
    p.add_argument("--store", default=None, help=STORE_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmlkb",
        description=__doc__.splitlines()[0],
        epilog=f"{DISCLAIMER} Knowledge: ${HOME_VAR} when set (a folder with ontology/, "
        "rules/ and queries/), else the installation's.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("evaluate", help=COMMANDS["evaluate"][2])
    p.add_argument("files", nargs="+", metavar="FILE", help="case files (.json or .jsonl)")
    p.add_argument(
        "--format", default="text", choices=["text", "json", "turtle", "jsonld", "patient"]
    )
    _evaluation_options(p)

    p = sub.add_parser(
        "batch",
        help=COMMANDS["batch"][2],
        description="Evaluate every case of a cohort: results in input order, invalid "
        "records to a rejects file while the rest go on, resumable after a crash or Ctrl-C.",
    )
    p.add_argument(
        "cohort",
        metavar="COHORT",
        help="a .jsonl file (one case per line) or a folder of "
        ".json/.jsonl files (taken in name order)",
    )
    p.add_argument("--out", required=True, help="results file: one JSON line per evaluated case")
    p.add_argument("--rejects", default=None, help="rejects file (default: OUT.rejects.jsonl)")
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: the number of CPUs)"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the unfinished batch writing to OUT"
    )
    p.add_argument(
        "--batch-id",
        default=None,
        metavar="UUID",
        help="the batch's id (default: a new random one); the evaluation ids derive from it",
    )
    _evaluation_options(p)
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler", default=None, metavar="tcp://HOST:PORT", help="run on this Dask cluster"
    )
    cluster.add_argument(
        "--dask-local",
        type=int,
        default=None,
        metavar="N",
        help="run on a local Dask cluster of N worker processes",
    )
    p.add_argument(
        "--progress-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal (default 5)",
    )

    p = sub.add_parser("explain", help=COMMANDS["explain"][2])
    p.add_argument("target", metavar="EVALUATION_ID_OR_CASE_FILE")
    p.add_argument("--drug", required=True)
    p.add_argument(
        "--why-not",
        action="store_true",
        help="explain why the drug is not a candidate or preferred",
    )
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--guideline", default=None)
    p.add_argument("--store", default=None, help=STORE_HELP)

    p = sub.add_parser("validate", help=COMMANDS["validate"][2])
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", default="text", choices=["text", "json"])

    p = sub.add_parser("check", help=COMMANDS["check"][2])
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument(
        "--no-reasoner", action="store_true", help="skip the OWL consistency check (needs Java)"
    )
    p.add_argument(
        "--root",
        default=None,
        help="check the knowledge under this folder instead of the installed one",
    )

    p = sub.add_parser("query", help=COMMANDS["query"][2])
    p.add_argument("name")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--store", default=None, help=STORE_HELP)

    p = sub.add_parser("replay", help=COMMANDS["replay"][2])
    p.add_argument("evaluation", metavar="EVALUATION_ID")
    p.add_argument(
        "--with-current",
        action="store_true",
        help="re-evaluate with today's knowledge and print what changed and why",
    )
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--store", default=None, help=STORE_HELP)

    p = sub.add_parser("impact", help=COMMANDS["impact"][2])
    p.add_argument(
        "--since",
        required=True,
        metavar="VERSION",
        help="knowledge version (or sha256: digest) the evaluations were made with",
    )
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--store", default=None, help=STORE_HELP)

    p = sub.add_parser("audit", help=COMMANDS["audit"][2])
    p.add_argument("action", choices=["verify"])
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--store", default=None, help=STORE_HELP)

    p = sub.add_parser("vocab", help=COMMANDS["vocab"][2])
    p.add_argument("--format", default="text", choices=["text", "json"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    module_name, function, _ = COMMANDS[args.command]
    args.knowledge_root = knowledge_root()
    if hasattr(args, "store"):
        args.store = store_location(args.store)
    args.cache_dir = cache_dir()
    try:
        handler = getattr(importlib.import_module(module_name), function)
        return int(handler(args))
    except CmlkbError as exc:
        print(f"cmlkb {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so plainly; CMLKB_DEBUG=1 shows the traceback
        if os.environ.get("CMLKB_DEBUG"):
            raise
        print(
            f"cmlkb {args.command}: internal error ({type(exc).__name__}: {exc}). "
            "Run again with CMLKB_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

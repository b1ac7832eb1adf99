"""Where the knowledge, rules and queries live.

cmlkb runs from its repository (installed editable by `make`): the data folders sit
beside `engine/`. `CMLKB_HOME` points elsewhere, e.g. at a copy of the knowledge under
review or an older release for replay.
"""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The folder holding ontology/, rules/ and queries/."""
    home = os.environ.get("CMLKB_HOME")
    return Path(home) if home else _CHECKOUT


def ontology_dir() -> Path:
    return project_root() / "ontology"


def rules_dir() -> Path:
    return project_root() / "rules"


def queries_dir() -> Path:
    return project_root() / "queries"

"""The default knowledge root: the checkout beside `engine/`.

cmlkb runs from its repository (installed editable by `make`), with ontology/, rules/
and queries/ beside `engine/`. Nothing in the library reads a root from the environment:
every reader takes its root from the KnowledgeBase (`kb.root`) or an explicit argument.
The front door (the `cmlkb` command, `cmlkb.interfaces.cli.knowledge_root`) chooses the root, and
it alone honours `CMLKB_HOME`; library callers that pass no root get `default_root()`.
"""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def default_root() -> Path:
    """The folder holding ontology/, rules/ and queries/ of this installation."""
    return _CHECKOUT

"""The knowledge base the case-validation tests check against (shared by tests/validation
and tests/shapes/case through their conftest files).

The curated knowledge (ontology/knowledge/*.ttl) is used when it defines every vocabulary
the case format needs; until then a small stand-in (fixture_kb/vocabularies.ttl) is added
to the schema and the shared concepts, so the tests do not depend on work in progress.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cmlkb import paths
from cmlkb.knowledge import KnowledgeBase, load_knowledge, load_knowledge_from
from cmlkb.vocab import vocabularies

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "cases"
NEEDED = (
    "drugs",
    "mutations",
    "comorbidities",
    "goals",
    "comedications",
    "abnormalities",
    "transcripts",
    "elts-risks",
    "sexes",
    "stop-reasons",
    "adherence-statuses",
)


def case_kb(tmp_root: Path) -> KnowledgeBase:
    """The curated KB if complete for cases, else schema + concepts + the stand-in."""
    try:
        real = load_knowledge()
        vocabs = vocabularies(real)
        if all(vocabs[name] for name in NEEDED):
            return real
    except Exception:  # a curated file in progress may not parse yet
        pass
    onto = tmp_root / "ontology"
    (onto / "knowledge").mkdir(parents=True)
    shutil.copy(paths.ontology_dir() / "cmlkb.ttl", onto / "cmlkb.ttl")
    shutil.copy(paths.ontology_dir() / "knowledge" / "concepts.ttl", onto / "knowledge")
    shutil.copy(Path(__file__).parent / "fixture_kb" / "vocabularies.ttl", onto / "knowledge")
    return load_knowledge_from(tmp_root)

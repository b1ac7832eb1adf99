"""cmlkb: a declarative knowledge base and rule engine for resistance and relapse in
chronic myeloid leukemia (CML).

Framework: Soverini S, Castagnetti F. How I evaluate and treat resistance and relapse in
CML. Blood 2026;147(4):337 (doi:10.1182/blood.2024026511), on ELN 2020 and NCCN.

Decision support for clinicians, not a medical device.
"""

from cmlkb.errors import CmlkbError, InvalidInput
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge

__all__ = ["CmlkbError", "InvalidInput", "KnowledgeBase", "load_knowledge"]

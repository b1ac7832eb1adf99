"""knowledge layer of cmlkb: load the knowledge base, its vocabularies and OWL check."""

"""provenance layer of cmlkb: the PROV-O graph, the audit store, explanations, audit and replay."""

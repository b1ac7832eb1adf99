"""results layer of cmlkb: the Evaluation record, the contract JSON, clinician and patient text."""

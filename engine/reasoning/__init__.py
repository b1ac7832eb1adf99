"""reasoning layer of cmlkb: rule loading and lint, the durable-rules adapter, the reasoner,
the knowledge checks."""

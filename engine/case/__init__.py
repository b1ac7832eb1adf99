"""case layer of cmlkb: read, normalise and validate a case; its facts."""

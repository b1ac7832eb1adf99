"""Front doors: the command line today (batch and HTTP next). A door parses its input,
calls the one pipeline (cmlkb.pipeline) and formats the Evaluation; nothing clinical lives
here."""

"""The `.score` language front end: grammar, parser, AST, diagnostics, formatter."""

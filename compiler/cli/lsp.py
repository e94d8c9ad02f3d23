"""`score lsp`: the language server for editors (docs/editors.md)."""
from __future__ import annotations

import click


@click.command("lsp")
@click.option("--stdio", is_flag=True,
              help="Talk over standard input and output (the only transport; accepted "
                   "because editors pass it).")
def command(stdio: bool) -> None:
    """Run the language server: diagnostics while typing, formatting, completion, hover,
    go to definition, quick fixes, outline and "run test" lenses."""
    try:
        from compiler.lsp import serve
    except ImportError as exc:  # pragma: no cover - pygls is a dependency
        raise click.ClickException(f"the language server needs pygls ({exc}); "
                                   "install scorelang again with pip") from None
    serve()

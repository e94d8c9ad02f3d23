"""The language server (`score lsp`): a thin layer over the pipeline, the formatter, the symbol
table and the runtime. `analysis` compiles one document version; `names`, `hover`,
`completion`, `actions` and `outline` answer the editor from it; `impact` runs the rules on
the workspace's sample data; `server` wires the protocol (pygls) to them."""
from __future__ import annotations


def serve() -> None:
    """Run the server over standard input and output."""
    from .server import serve as run

    run()

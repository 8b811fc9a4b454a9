"""`outplace lsp`: run the language server on stdio. Imports pygls only when run."""

from __future__ import annotations

import logging
import sys
from typing import Optional

import typer


def lsp_cli(
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Append the server's log to this file."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log debug messages too (with --log-file)."),
    stdio: bool = typer.Option(True, "--stdio/--no-stdio", hidden=True,
                               help="Talk LSP over stdin/stdout (the only transport; accepted for editors that pass it)."),
) -> None:
    """Run the language server (stdio) for editors."""
    try:
        from outplace.lsp.server import create_server
    except ImportError as e:  # pragma: no cover - depends on the installation
        typer.echo(f"outplace: error: `outplace lsp` needs pygls ({e}); install it with "
                   "`pip install 'outplace[lsp]'`", err=True)
        raise typer.Exit(2) from None
    if log_file:
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if verbose else logging.INFO)
        logging.getLogger("pygls").setLevel(logging.DEBUG if verbose else logging.WARNING)
    else:
        # stdout is the protocol channel: nothing else may print there. Warnings go to stderr.
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="outplace lsp: %(message)s")
    # The engine runs in worker threads; hand the GIL back to the loop thread sooner than the
    # default 5 ms so that requests are answered promptly while a long check is running.
    sys.setswitchinterval(0.001)
    server = create_server()
    server.start_io()
    # LSP: exit 0 only after `shutdown` then `exit`; an `exit` alone, or the stream ending, is 1.
    raise typer.Exit(0 if server.shutdown_requested else 1)

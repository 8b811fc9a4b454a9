"""The editor front end: `outplace lsp`, a language server on stdio (needs the `lsp` extra: pygls).

`server.create_server()` builds the pygls server; `convert` holds the position arithmetic (no pygls);
`command.lsp_cli` is the CLI entry point. Importing this package imports no pygls.
"""

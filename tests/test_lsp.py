"""`outplace lsp` driven over stdio by pytest-lsp, with the recorded capabilities of real clients.

Each test starts the server as a subprocess (`python -m outplace lsp`), initializes it as Neovim,
VS Code or Emacs (eglot) would, and checks what an editor sees: diagnostics, quick fixes, fix-all,
formatting, position encodings, settings, half-typed code, a save-time fix-all on a 250 kB file,
and that a long check does not block other requests (an event wait, not a clock).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from outplace.engine import fix_source  # noqa: E402
from outplace.lsp.convert import LineIndex  # noqa: E402
from outplace.settings import Settings  # noqa: E402

# One event loop per module: the servers that tests share live as long as the module.
pytestmark = pytest.mark.asyncio(loop_scope="module")

_SCRATCH = Path(os.environ.get("TMPDIR", "/tmp"))
# The server and anything it starts keep their caches and state out of $HOME.
ENV = {**os.environ, **{k: str(_SCRATCH / f"outplace-lsp-{k.lower()}") for k in
                        ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}}


def _make_client() -> LanguageClient:
    """pytest-lsp's test client, also remembering the version each publishDiagnostics was for."""
    from pygls.protocol import default_converter
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.diagnostic_versions[params.uri] = params.version
        client.publish_counts[params.uri] = client.publish_counts.get(params.uri, 0) + 1

    c = LanguageClient(converter_factory=default_converter)
    c.diagnostic_versions, c.publish_counts = {}, {}
    register_lsp_features(c, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return c


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "outplace", "lsp"], server_env=ENV,
                            client_factory=_make_client)

# A server whose engine holds the check of any text containing HOLD_MARK until the test creates
# HOLD_DIR/release (it creates HOLD_DIR/started when it begins, HOLD_DIR/finished when it ends).
HOLD_MARK = "# outplace-test: hold this check\n"
HOLD_DIR = Path(tempfile.mkdtemp(prefix="outplace-lsp-hold-"))
HOLD_SITE = """
import os, time
from pathlib import Path
import outplace.engine as engine

_real = engine.check_source
_dir = Path(os.environ["OUTPLACE_TEST_HOLD_DIR"])

def check_source(source, *args, **kwargs):
    if "outplace-test: hold" in source:
        (_dir / "started").touch()
        deadline = time.monotonic() + 300
        while not (_dir / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            return _real(source, *args, **kwargs)
        finally:
            (_dir / "finished").touch()
    return _real(source, *args, **kwargs)

engine.check_source = check_source
"""
(HOLD_DIR / "sitecustomize.py").write_text(HOLD_SITE)
HELD_SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "outplace", "lsp"], client_factory=_make_client,
    server_env={**ENV, "OUTPLACE_TEST_HOLD_DIR": str(HOLD_DIR),
                "PYTHONPATH": os.pathsep.join(p for p in (str(HOLD_DIR), ENV.get("PYTHONPATH", "")) if p)})


async def wait_for(path: Path, timeout: float = 60.0) -> None:
    """Until `path` exists (an event the server side signals); the timeout only ends a hung test."""
    for _ in range(int(timeout / 0.01)):
        if path.exists():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path.name} never happened")

# Real clients' capabilities as pytest-lsp recorded them: the oldest Neovim we document (Debian's
# 0.7), the newest (UTF-8 positions), VS Code (resolves code actions lazily) and Emacs 29's eglot
# (UTF-32 positions first, no code action resolve).
CLIENTS = ["neovim@v0.7.0", "neovim@v0.11.0", "visual_studio_code", "emacs"]
ENCODING_OF = {"neovim@v0.7.0": "utf-16", "neovim@v0.11.0": "utf-8", "visual_studio_code": "utf-16",
               "emacs": "utf-32"}

SAMPLE = '''import torch


def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.exp(x)  # exp saves its output for backward
    y.add_(w)
    torch.relu_(y)
    return y


f(torch.ones(3, requires_grad=True), torch.ones(3))
'''


@pytest_lsp.fixture(config=SERVER, scope="module", params=CLIENTS)
async def editor(request, lsp_client: LanguageClient, tmp_path_factory):
    """One server per client kind, shared by the module's tests (each opens its own files)."""
    lsp_client.spec = request.param
    lsp_client.encoding = ENCODING_OF[request.param]
    lsp_client.init_result = await start(lsp_client, request.param, tmp_path_factory.mktemp("workspace"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, loop_scope="module")
async def client(lsp_client: LanguageClient):
    """A server of its own, for tests that initialize it with particular options."""
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=HELD_SERVER, loop_scope="module")
async def held(lsp_client: LanguageClient):
    """A server of its own whose checks of HOLD_MARK texts wait for the test."""
    yield
    (HOLD_DIR / "release").touch()  # never leave a worker thread waiting
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, spec: str = "visual_studio_code", root: Path | None = None,
                options: dict | None = None) -> types.InitializeResult:
    params = types.InitializeParams(
        capabilities=client_capabilities(spec),
        root_uri=root.as_uri() if root else None,
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)] if root else None,
        initialization_options=options,
    )
    return await client.initialize_session(params)


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient, uri: str, version: int | None = None, timeout: float = 20.0):
    """The diagnostics of `uri` once some for `version` (any, if None) have arrived."""
    return await _published(client, uri, lambda: uri in client.diagnostics and (
        version is None or client.diagnostic_versions.get(uri) == version), f"version {version}", timeout)


async def republished(client: LanguageClient, uri: str, count: int, timeout: float = 20.0):
    """The diagnostics of `uri` once more than `count` publishes of them have arrived."""
    return await _published(client, uri, lambda: client.publish_counts.get(uri, 0) > count,
                            f"after {count} publishes", timeout)


async def _published(client: LanguageClient, uri: str, arrived, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not arrived():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no diagnostics for {uri} ({what}); got {client.diagnostics.get(uri)}")
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        except asyncio.TimeoutError:
            pass
    return client.diagnostics[uri]


def apply_edits(text: str, edits, encoding: str) -> str:
    index = LineIndex(text)
    spans = []
    for e in edits:
        start = index.offset(e.range.start.line, e.range.start.character, encoding)
        end = index.offset(e.range.end.line, e.range.end.character, encoding)
        spans.append((start, end, e.new_text))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    if edit.document_changes:
        return [e for dc in edit.document_changes if dc.text_document.uri == uri for e in dc.edits]
    return list((edit.changes or {}).get(uri, []))


async def resolved(client: LanguageClient, action: types.CodeAction) -> types.CodeAction:
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.edit is not None, action
    return action


async def code_actions(client: LanguageClient, uri: str, rng: types.Range, only=None, diags=()):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=rng,
        context=types.CodeActionContext(diagnostics=list(diags), only=only)))


def whole(text: str) -> types.Range:
    index = LineIndex(text)
    return types.Range(types.Position(0, 0), types.Position(index.line_count, 0))


# ---- the editor's view, for each client --------------------------------------------------------------

async def test_diagnostics_quick_fixes_and_fix_all(editor: LanguageClient, tmp_path: Path):
    client, encoding = editor, editor.encoding
    capabilities = editor.init_result.capabilities
    assert editor.init_result.server_info.name == "outplace"
    assert str(getattr(capabilities.position_encoding, "value", capabilities.position_encoding) or "utf-16") == encoding
    assert capabilities.document_formatting_provider
    assert set(capabilities.code_action_provider.code_action_kinds) == {"quickfix", "source.fixAll.outplace"}
    assert capabilities.code_action_provider.resolve_provider
    sync = capabilities.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental and sync.save
    assert sync.will_save_wait_until == (editor.spec != "neovim@v0.7.0")  # as far as the client supports it

    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    diags = await diagnostics(client, uri)
    assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in diags] == [
        ("OP102", 5, 4, 13), ("OP103", 6, 4, 18)]
    assert all(d.source == "outplace" and d.severity == types.DiagnosticSeverity.Warning for d in diags)
    assert diags[0].data["fix"] == "unsafe" and diags[0].data["reasons"]
    assert diags[0].message.splitlines()[0].endswith("(unsafe fix)")
    assert diags[0].message.splitlines()[1] == diags[0].data["why"]  # why the write breaks backward
    assert diags[1].data == {"fix": "safe", "reasons": [], "hazard": "breaks",
                             "why": "`y` was saved by `torch.exp` as its result (line 5); this write makes backward fail"}

    # One quick fix per diagnostic; the unsafe one says so.
    for diag, expected in zip(diags, ("    y = y.add(w)\n", "    y = torch.relu(y)\n")):
        actions = await code_actions(client, uri, diag.range, diags=[diag])
        fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
        assert len(fixes) == 1
        assert ("unsafe" in fixes[0].title) == (diag.data["fix"] == "unsafe")
        assert fixes[0].is_preferred == (diag.data["fix"] == "safe")
        assert fixes[0].diagnostics[0].code == diag.code
        action = await resolved(client, fixes[0])
        fixed = apply_edits(SAMPLE, edits_of(action.edit, uri), encoding)
        assert expected in fixed and fixed.count("\n") == SAMPLE.count("\n")

    # Fix all: the safe fixes only, exactly what `outplace fix` writes.
    actions = await code_actions(client, uri, whole(SAMPLE), only=["source.fixAll.outplace"])
    assert [a.kind for a in actions] == ["source.fixAll.outplace"]
    action = await resolved(client, actions[0])
    assert apply_edits(SAMPLE, edits_of(action.edit, uri), encoding) == fix_source(SAMPLE, Settings()).output

    # `source.fixAll` and `source` are asked for by prefix.
    assert [a.kind for a in await code_actions(client, uri, whole(SAMPLE), only=["source.fixAll"])] == [
        "source.fixAll.outplace"]
    assert not await code_actions(client, uri, whole(SAMPLE), only=["source.organizeImports"])

    # Formatting gives the same edits (for editors whose save hook formats).
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert apply_edits(SAMPLE, edits, encoding) == fix_source(SAMPLE, Settings()).output


async def test_positions_follow_the_negotiated_encoding(editor: LanguageClient, tmp_path: Path):
    client, spec = editor, editor.spec
    text = SAMPLE.replace("    torch.relu_(y)", '    s = "😀😀"; torch.relu_(y)')
    uri = open_doc(client, tmp_path / "emoji.py", text)
    diags = await diagnostics(client, uri)
    relu = [d for d in diags if d.code == "OP103"][0]
    # `    s = "😀😀"; ` is 14 code points, 16 UTF-16 code units, 20 UTF-8 bytes.
    expected = {"utf-32": 14, "utf-16": 16, "utf-8": 20}[ENCODING_OF[spec]]
    assert relu.range.start.character == expected
    assert relu.range.end.character == expected + len("torch.relu_(y)")
    actions = await code_actions(client, uri, relu.range, only=["quickfix"])
    action = await resolved(client, actions[0])
    fixed = apply_edits(text, edits_of(action.edit, uri), ENCODING_OF[spec])
    assert '    s = "😀😀"; y = torch.relu(y)\n' in fixed


# ---- settings ---------------------------------------------------------------------------------------------

async def test_unsafe_fixes_and_fix_on_save_settings(client: LanguageClient, tmp_path: Path):
    await start(client, "emacs", tmp_path, options={"unsafeFixes": True, "fixOnSave": True})
    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    await diagnostics(client, uri)
    expected = fix_source(SAMPLE, Settings(unsafe_fixes=True)).output
    assert "y = y.add(w)" in expected and "y = torch.relu(y)" in expected
    # Fix all takes the unsafe fixes too, and says so.
    actions = await code_actions(client, uri, whole(SAMPLE), only=["source.fixAll.outplace"])
    assert "unsafe" in actions[0].title
    assert apply_edits(SAMPLE, edits_of((await resolved(client, actions[0])).edit, uri), "utf-32") == expected
    # fixOnSave: eglot (and VS Code) send willSaveWaitUntil before writing the file.
    edits = await client.text_document_will_save_wait_until_async(types.WillSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri), types.TextDocumentSaveReason.Manual))
    assert apply_edits(SAMPLE, edits, "utf-32") == expected


async def test_will_save_wait_until_does_nothing_by_default(editor: LanguageClient, tmp_path: Path):
    uri = open_doc(editor, tmp_path / "model.py", SAMPLE)
    await diagnostics(editor, uri)
    edits = await editor.text_document_will_save_wait_until_async(types.WillSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri), types.TextDocumentSaveReason.Manual))
    assert not edits


async def test_pyproject_settings_and_init_options_combine(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.outplace]\nignore = ["OP103"]\n')
    (tmp_path / "pkg").mkdir()
    await start(client, "visual_studio_code", tmp_path, options={"outplace": {"select": "OP1"}})
    uri = open_doc(client, tmp_path / "pkg" / "model.py", SAMPLE)
    assert [d.code for d in await diagnostics(client, uri)] == ["OP102"]
    # Files the configuration excludes get no diagnostics.
    venv = tmp_path / ".venv" / "lib"
    venv.mkdir(parents=True)
    uri2 = open_doc(client, venv / "vendored.py", SAMPLE)
    assert not await diagnostics(client, uri2)


async def test_bad_option_is_reported_not_fatal(client: LanguageClient, tmp_path: Path):
    await start(client, "visual_studio_code", tmp_path, options={"select": ["NOPE"]})
    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    assert [d.code for d in await diagnostics(client, uri)] == ["OP102", "OP103"]  # the defaults
    assert any("NOPE" in m.message for m in client.messages)


# ---- typing -----------------------------------------------------------------------------------------------

async def test_half_typed_code_keeps_the_server_alive(editor: LanguageClient, tmp_path: Path):
    client = editor
    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    assert len(await diagnostics(client, uri, 1)) == 2
    broken = SAMPLE.replace("    return y", "    return y +")
    change_doc(client, uri, 2, broken)
    await asyncio.sleep(0.6)
    # No new diagnostics for text that does not parse: the last good ones stay.
    assert client.diagnostic_versions[uri] == 1 and len(client.diagnostics[uri]) == 2
    actions = await code_actions(client, uri, whole(broken))
    assert not actions
    fmt = await client.text_document_formatting_async(types.DocumentFormattingParams(
        types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert not fmt
    # Typing on: the text parses again and gets fresh diagnostics.
    fixed = SAMPLE.replace("    torch.relu_(y)\n", "")
    change_doc(client, uri, 3, fixed)
    assert [d.code for d in await diagnostics(client, uri, 3)] == ["OP102"]


async def test_incremental_changes_debounce_and_stale_results(editor: LanguageClient, tmp_path: Path):
    client = editor
    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    await diagnostics(client, uri, 1)
    # Type "    x.mul_(2)\n" before `return y`, one character per change, as an editor sends it.
    line = SAMPLE.splitlines().index("    return y")
    typed = "    x.mul_(2)\n"
    text = SAMPLE
    count_before = client.publish_counts[uri]
    for i, ch in enumerate(typed):
        pos = types.Position(line, i) if ch != "\n" else types.Position(line, len(typed) - 1)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2 + i),
            [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=ch)]))
    last = 1 + len(typed)
    text = SAMPLE.replace("    return y", typed + "    return y")
    diags = await diagnostics(client, uri, last)
    assert [d.code for d in diags] == ["OP102", "OP103", "OP102"]
    assert diags[2].range.start.line == line
    # Debounced: one publish for the burst of 14 changes (two if a busy machine stalls mid-burst).
    assert client.publish_counts[uri] - count_before in (1, 2)
    actions = await code_actions(client, uri, whole(text), only=["source.fixAll.outplace"])
    fixed = apply_edits(text, edits_of((await resolved(client, actions[0])).edit, uri), client.encoding)
    assert fixed == fix_source(text, Settings()).output


async def test_close_clears_diagnostics(editor: LanguageClient, tmp_path: Path):
    client = editor
    uri = open_doc(client, tmp_path / "model.py", SAMPLE)
    assert await diagnostics(client, uri, 1)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    deadline = time.monotonic() + 5
    while client.diagnostics.get(uri) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not client.diagnostics[uri]


# ---- speed: the save-time budget --------------------------------------------------------------------------

BLOCK = """

class Block{i}(torch.nn.Module):
    \"\"\"A residual block, number {i}.

    It normalises its input over the last dimension, scales and shifts it, and squashes the result.
    The single in-place update below is the kind of code outplace rewrites; everything else is the
    ordinary code around it that the checker still has to read.
    \"\"\"

    def __init__(self, width: int = 64, eps: float = 1e-5) -> None:
        super().__init__()
        self.width = width
        self.eps = eps
        self.scale = torch.nn.Parameter(torch.ones(width))
        self.shift = torch.nn.Parameter(torch.zeros(width))

    def extra_repr(self) -> str:
        return f"width={{self.width}}, eps={{self.eps}}"

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        std = x.std(dim=-1, keepdim=True)
        return (x - mean) / (std + self.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # normalise, then apply the affine transform
        h = self.normalise(x)
        h = torch.sigmoid(h * self.scale + self.shift)  # sigmoid saves its output
        torch.relu_(h)
        return h + x
"""


def big_module(size: int = 250_000) -> tuple[str, int]:
    """A module of small nn.Modules of `size` bytes, one safe in-place fix in each (about 250 in 250 kB)."""
    parts = ['"""Generated: many small modules with in-place updates."""\n\nimport torch\n']
    total, i = len(parts[0]), 0
    while total < size:
        parts.append(BLOCK.format(i=i))
        total += len(parts[-1])
        i += 1
    return "".join(parts), i


async def test_fix_all_on_a_250_kB_file_is_the_whole_file_fixed(client: LanguageClient, tmp_path: Path):
    await start(client, "visual_studio_code", tmp_path)
    text, blocks = big_module()
    assert len(text.encode()) >= 250_000
    started = time.perf_counter()
    uri = open_doc(client, tmp_path / "big.py", text)
    diags = await diagnostics(client, uri, 1, timeout=60)
    opened = time.perf_counter() - started
    assert [d.code for d in diags] == ["OP103"] * blocks
    # The first request may wait for the fix-all edits the server started computing in the
    # background when it published the diagnostics; by the time an editor saves they are ready.
    times = []
    for _ in range(2):
        started = time.perf_counter()
        actions = await code_actions(client, uri, whole(text), only=["source.fixAll.outplace"])
        times.append(time.perf_counter() - started)
    fixed = apply_edits(text, edits_of(actions[0].edit, uri), "utf-16")
    assert fixed == text.replace("        torch.relu_(h)\n", "        h = torch.relu(h)\n")
    # Measured, not asserted: a timed assertion fails on a loaded 2-core machine. The save-time
    # budget is tracked by benchmarks/bench.py (the editor path).
    print(f"\n{len(text.encode()) // 1000} kB, {len(diags)} findings: diagnostics after {opened * 1000:.0f} ms; "
          f"fix-all answered in {times[0] * 1000:.0f} ms (first), {times[1] * 1000:.0f} ms (ready)")


async def test_a_long_check_does_not_block_other_requests(held: LanguageClient, tmp_path: Path):
    """Event waits, no clocks: the big file's check is held inside the engine (HOLD_SITE) until the
    test releases it, so "answered while the check was running" is certain, not a race."""
    client = held
    await start(client, "visual_studio_code", tmp_path)
    text = SAMPLE + HOLD_MARK
    big = open_doc(client, tmp_path / "big.py", text)
    await wait_for(HOLD_DIR / "started")  # a worker thread is inside check_source for big.py
    small = open_doc(client, tmp_path / "small.py", SAMPLE)
    # (The bound only ends a test whose server is blocked; the check stays held whatever it is.)
    await asyncio.wait_for(code_actions(client, big, whole(text), only=["source.organizeImports"]), 60)
    # The loop answered while the engine was still busy with the big file ...
    assert big not in client.diagnostics and not (HOLD_DIR / "finished").exists()
    # ... and the small file's diagnostics come whatever the big file is doing.
    assert len(await diagnostics(client, small, 1)) == 2
    assert big not in client.diagnostics
    (HOLD_DIR / "release").touch()
    assert len(await diagnostics(client, big, 1, timeout=60)) == 2


async def test_only_python_documents_are_checked(editor: LanguageClient, tmp_path: Path):
    client = editor
    notes = tmp_path / "notes.md"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=notes.as_uri(), language_id="markdown", version=1, text=SAMPLE)))
    stub = open_doc(client, tmp_path / "model.pyi", SAMPLE)  # .pyi by name, whatever the language id
    assert len(await diagnostics(client, stub, 1)) == 2
    assert notes.as_uri() not in client.diagnostics
    assert not await code_actions(client, notes.as_uri(), whole(SAMPLE))


# ---- notebooks --------------------------------------------------------------------------------------------

FUNCTION_CELL = '''def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.exp(x)  # exp saves its output for backward
    y.add_(w)
    torch.relu_(y)
    return y'''
# (kind, language, text) as Jupyter holds them: no newline after a cell's last line.
NOTEBOOK = [(types.NotebookCellKind.Markup, "markdown", "# A training step"),
            (types.NotebookCellKind.Code, "python", "import torch\n%matplotlib inline"),
            (types.NotebookCellKind.Code, "python", FUNCTION_CELL),
            (types.NotebookCellKind.Code, "python", "f(torch.ones(3, requires_grad=True), torch.ones(3))")]


def with_notebooks(spec: str) -> types.ClientCapabilities:
    """A client's recorded capabilities plus notebook document sync (what VS Code says since 1.74)."""
    capabilities = client_capabilities(spec)
    capabilities.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities(execution_summary_support=True))
    return capabilities


def open_notebook(client: LanguageClient, path: Path, cells) -> list[str]:
    """Opens a notebook as VS Code does (a cell uri per cell); returns the cells' uris."""
    uris = [f"vscode-notebook-cell:{path.as_posix()}#C{i}" for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=path.as_uri(), notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=uri) for (kind, _, _), uri in zip(cells, uris)]),
        cell_text_documents=[types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
                             for (_, language, text), uri in zip(cells, uris)]))
    return uris


def write_notebook(path: Path, cells) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(text) if kind == types.NotebookCellKind.Markup
                else nbformat.v4.new_code_cell(text) for kind, _, text in cells]
    nbformat.write(nb, str(path))


async def test_notebook_cells_get_their_own_diagnostics_and_fixes(client: LanguageClient, tmp_path: Path):
    """A notebook synced cell by cell is checked as `outplace check x.ipynb` reads it: the code cells
    as one program (the caller in cell 4 makes the write in cell 3 break backward), each cell's
    findings in its own lines; its quick fixes edit that cell, and fix-all writes what `outplace fix`
    writes into the notebook."""
    result = await client.initialize_session(types.InitializeParams(
        capabilities=with_notebooks("visual_studio_code"), root_uri=tmp_path.as_uri()))
    sync = result.capabilities.notebook_document_sync
    assert sync is not None and sync.save
    assert [c.language for f in sync.notebook_selector for c in f.cells] == ["python"]
    path = tmp_path / "train.ipynb"
    markdown, imports, function, caller = open_notebook(client, path, NOTEBOOK)

    diags = await diagnostics(client, function, 1)
    assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in diags] == [
        ("OP102", 2, 4, 13), ("OP103", 3, 4, 18)]
    assert diags[1].data["why"] == ("`y` was saved by `torch.exp` as its result (cell 3, line 2); "
                                    "this write makes backward fail")
    assert diags[1].message.splitlines()[1] == diags[1].data["why"]
    assert not any(client.diagnostics.get(uri) for uri in (markdown, imports, caller))  # the magic is masked

    # A quick fix edits its own cell.
    actions = await code_actions(client, function, diags[1].range, only=["quickfix"], diags=[diags[1]])
    [action] = [await resolved(client, a) for a in actions]
    assert [dc.text_document.uri for dc in action.edit.document_changes] == [function]
    assert apply_edits(FUNCTION_CELL, edits_of(action.edit, function), "utf-16") == FUNCTION_CELL.replace(
        "    torch.relu_(y)", "    y = torch.relu(y)")

    # Fix-all (asked for from any cell) gives the cells what `outplace fix train.ipynb` writes.
    write_notebook(path, NOTEBOOK)
    fixed = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "outplace", "fix", str(path)],
                                    capture_output=True, text=True, env=ENV)
    expected = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
    assert expected[2] != FUNCTION_CELL and expected[:2] + expected[3:] == [t for _, _, t in NOTEBOOK[:2] + NOTEBOOK[3:]], fixed.stderr
    actions = await code_actions(client, imports, whole(NOTEBOOK[1][2]), only=["source.fixAll.outplace"])
    action = await resolved(client, actions[0])
    assert {dc.text_document.uri for dc in action.edit.document_changes} == {function}
    assert apply_edits(FUNCTION_CELL, edits_of(action.edit, function), "utf-16") == expected[2]
    # Formatting a cell gives that cell's share.
    for uri, text, after in ((function, FUNCTION_CELL, expected[2]), (caller, NOTEBOOK[3][2], NOTEBOOK[3][2])):
        edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
            types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)))
        assert apply_edits(text, edits, "utf-16") == after

    # Typing in a cell: its diagnostics follow (relu_ deleted: only the add_ is left).
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=path.as_uri()),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=function, version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(3, 0), types.Position(4, 0)), text="")])]))))
    assert [(d.code, d.range.start.line) for d in await diagnostics(client, function, 2)] == [("OP102", 2)]

    # A cell inserted above: the cells are numbered anew, and the messages with them.
    count = client.publish_counts[function]
    new_cell = f"vscode-notebook-cell:{path.as_posix()}#new"
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(version=3, uri=path.as_uri()),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(
                    start=0, delete_count=0,
                    cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=new_cell)]),
                did_open=[types.TextDocumentItem(uri=new_cell, language_id="python", version=1,
                                                 text="torch.manual_seed(0)")])))))
    [diag] = await republished(client, function, count)
    assert "(cell 4, line 2)" in diag.data["why"], diag.data["why"]

    # Saving is accepted; closing clears every cell's diagnostics.
    client.notebook_document_did_save(types.DidSaveNotebookDocumentParams(
        types.NotebookDocumentIdentifier(path.as_uri())))
    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        notebook_document=types.NotebookDocumentIdentifier(path.as_uri()),
        cell_text_documents=[types.TextDocumentIdentifier(u) for u in (new_cell, markdown, imports, function, caller)]))
    assert not await republished(client, function, client.publish_counts[function])


async def test_a_client_without_notebook_support_is_not_offered_it(editor: LanguageClient):
    assert editor.init_result.capabilities.notebook_document_sync is None

"""The language server keeps the protocol's own rules, driven over stdio as a bare client would:
an error reply to a request it cannot read, the exit code the spec asks for, and no server left
behind when the editor process dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("pygls")

SERVER = [sys.executable, "-m", "outplace", "lsp"]


class Client:
    """JSON-RPC over a server's stdin/stdout, framed with Content-Length headers."""

    def __init__(self, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.next_id = 0

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def notify(self, method: str, params=None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def read(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def response(self, msg_id: int) -> dict:
        while True:
            message = self.read()
            if message.get("id") == msg_id and "method" not in message:
                return message

    def initialize(self, process_id=None) -> dict:
        reply = self.response(self.request("initialize", {"processId": process_id, "rootUri": None,
                                                          "capabilities": {}}))
        self.notify("initialized", {})
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def client():
    c = Client()
    yield c
    c.close()


def _with_deadline(fn, seconds: float = 30.0):
    """Run a blocking read in the test, failing instead of hanging when no answer comes."""
    import threading

    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"no answer within {seconds} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_a_request_with_invalid_params_gets_an_error_reply(client: Client) -> None:
    client.initialize()
    bad = client.request("textDocument/codeAction", {"textDocument": 5, "range": "everywhere"})
    reply = _with_deadline(lambda: client.response(bad))
    assert reply["error"]["code"] == -32602, reply
    assert "textDocument/codeAction" in reply["error"]["message"]
    # The server is still there and answers the next request.
    ok = client.request("textDocument/formatting", {"textDocument": {"uri": "file:///nowhere.py"},
                                                    "options": {"tabSize": 4, "insertSpaces": True}})
    assert _with_deadline(lambda: client.response(ok)) == {"jsonrpc": "2.0", "id": ok, "result": None}


def test_exit_without_shutdown_exits_1(client: Client) -> None:
    client.initialize()
    client.notify("exit")
    assert client.proc.wait(30) == 1


def test_shutdown_then_exit_exits_0(client: Client) -> None:
    client.initialize()
    assert "error" not in _with_deadline(lambda: client.response(client.request("shutdown", None)))
    client.notify("exit")
    assert client.proc.wait(30) == 0


def test_the_server_exits_when_the_client_process_dies(client: Client) -> None:
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        client.initialize(process_id=editor.pid)
        time.sleep(1.5)
        assert client.proc.poll() is None  # the editor is alive: so is the server
    finally:
        editor.kill()
        editor.wait()
    assert client.proc.wait(30) == 1


def test_a_process_id_that_is_not_visible_is_not_watched(client: Client) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    client.initialize(process_id=gone.pid)  # another PID namespace looks like this: keep serving
    time.sleep(2.5)
    assert client.proc.poll() is None
    assert "result" in _with_deadline(lambda: client.response(client.request("shutdown", None)))

"""Run a command attached to a pseudo-terminal (stdout and stderr), the way a user sees it."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path


def on_a_terminal(argv: list[str], cwd: Path, env: dict, timeout: float = 120) -> bytes:
    """Everything `argv` wrote to the terminal, once it exits."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the terminal closed when the process exited
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=timeout)
    os.close(controller)
    return b"".join(chunks)

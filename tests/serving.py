"""`perfci serve` as a real process on a free port, for tests that talk to it over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(config: Path, db_url: str) -> Iterator[str]:
    """The base URL of `perfci serve --config CONFIG --db DB_URL` once it answers; stopped afterwards."""
    port = _free_port()
    command = [sys.executable, "-m", "perfci", "serve", "--port", str(port), "--config", str(config), "--db", db_url]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # up to a minute: start-up imports scipy on a loaded 2-core machine
            try:
                urllib.request.urlopen(base + "/api/openapi.json", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)

"""Workers on a real broker: RabbitMQ at 127.0.0.1:5672 (guest/guest), as on the dev and CI machines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.runner.conftest import tiny_repo  # noqa: F401  (the tracked repository, shared)

BROKER = os.environ.get("PERFCI_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def broker() -> str:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as error:
        if os.environ.get("PERFCI_REQUIRE_BROKER"):
            pytest.fail(f"RabbitMQ at 127.0.0.1:5672 is required (PERFCI_REQUIRE_BROKER): {error}")
        pytest.skip(f"no RabbitMQ at 127.0.0.1:5672: {error}")
    return BROKER


@pytest.fixture
def queue() -> str:
    """A queue of this test's own: nothing another test left behind reaches its workers."""
    return f"test-{uuid.uuid4().hex[:10]}"


@contextmanager
def workers(
    count: int, broker: str, db_url: str, queue: str, directory: Path, stale_after_s: float = 4.0
) -> Iterator[list[subprocess.Popen]]:
    """``count`` perfci workers serving ``queue``, each in its own process group (so a test can
    kill one whole, as a machine dies), stopped when the block ends."""
    started = []
    for index in range(count):
        log = (directory / f"worker-{index}.log").open("w")
        command = [sys.executable, "-P", "-m", "perfci", "worker", "--broker", broker, "--db", db_url]
        command += ["--queue", queue, "--name", f"w{index}-{queue}@test", "--cache", str(directory / f"cache-{index}")]
        command += ["--stale-after", str(stale_after_s)]
        started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        deadline = time.monotonic() + 60
        for index in range(count):
            while "ready." not in (directory / f"worker-{index}.log").read_text():
                assert time.monotonic() < deadline, (directory / f"worker-{index}.log").read_text()[-3000:]
                time.sleep(0.2)
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

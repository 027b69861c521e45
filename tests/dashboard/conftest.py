"""A populated store (a step, an improvement, a correctness failure, a stopped case, a hostile commit
message) and apps over it: public reads, and closed reads."""

from __future__ import annotations

import json

import pytest

from dashboard import create_app
from perfci.config import PerfciConfig, ServerConfig
from perfci.document import parse_document
from perfci.store.ingest import ingest_document
from perfci.store.judge import judge_run
from perfci.store.migrate import open_store
from perfci.tokens import hash_token
from tests.store.test_judge import _doc

WRITE_TOKEN = "write-token-for-tests"
READ_TOKEN = "read-token-for-tests"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def populate(db_url: str) -> dict:
    """12 commits of 3 cases: case0 +8% at commit 8, case1 -10% at 8, case2 incorrect at 10, case3 stops at 11."""
    store = open_store(db_url)
    docs = []
    for commit in range(12):
        levels = [1.0 if commit < 8 else 1.08, 2.0 if commit < 8 else 1.8, 3.0, 0.5]
        status = ["ok", "ok", "incorrect" if commit == 10 else "ok", "ok"]
        data = _doc(
            commit,
            levels if commit < 11 else levels[:3],
            seed=commit,
            processes=5,
            status=status if commit < 11 else status[:3],
        )
        for result in data["results"]:
            result["metrics"].update(tflops=100.0, gbps=900.0, useful_flops=1e12, min_bytes=1e9)
            result["timing"] = {"mode": "kernels"}
        data["run"]["environment"]["extra"] = {"ceilings": {"copy_gbps": 4000.0, "bf16_tflops": 700.0}}
        if commit == 9:
            data["run"]["commit"]["message"] = HOSTILE
            data["run"]["commit"]["branch"] = "main"
        docs.append(data)
        judge_run(store, ingest_document(store, parse_document(data)).run_uuid)
    store.dispose()
    return {"docs": docs}


@pytest.fixture
def populated(db_url) -> tuple[str, dict]:
    """The populated store on SQLite and on PostgreSQL: every page and API test runs on both."""
    return db_url, populate(db_url)


def _config(public: bool) -> PerfciConfig:
    server = ServerConfig(
        write_tokens=[hash_token(WRITE_TOKEN)],
        read_tokens=[hash_token(READ_TOKEN)],
        public_reads=public,
        secret_key="test-secret",
        max_document_mb=1,
    )
    return PerfciConfig(server=server)


@pytest.fixture
def app(populated):
    db_url, _ = populated
    application = create_app(db_url, _config(public=True))
    application.config["TESTING"] = True
    yield application
    application.extensions["perfci"]["store"].dispose()


@pytest.fixture
def closed_app(populated):
    db_url, _ = populated
    application = create_app(db_url, _config(public=False))
    yield application
    application.extensions["perfci"]["store"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def auth(token: str = WRITE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_json(response) -> dict:
    return json.loads(response.data)

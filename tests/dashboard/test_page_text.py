"""What the pages say, on SQLite and PostgreSQL: only the versions a document named ("driver None"
never), the roofline only for GPU results (the interpreter's rates time Python), and the compare
page's GPU column by device name."""

from __future__ import annotations

import pytest

from dashboard import create_app
from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.store.migrate import open_store
from tests.store.test_judge import _doc


@pytest.fixture
def interpreter_store(db_url):
    store = open_store(db_url)
    for commit in range(2):
        data = _doc(commit, [1.0], seed=commit)
        environment = data["run"]["environment"]
        environment.update(device_kind="interpreter", device_name="cpu (Triton interpreter)")
        for key in ("driver", "cuda"):
            environment.pop(key, None)
        data["results"][0]["metrics"].update(tflops=1e-6, gbps=1e-3, useful_flops=1e6, min_bytes=1e5)
        process_document(store, PerfciConfig(), parse_document(data))
    store.dispose()
    app = create_app(db_url)
    yield app.test_client(), data
    app.extensions["perfci"]["store"].dispose()


def test_unknown_versions_are_not_shown(interpreter_store):
    client, _ = interpreter_store
    listing = client.get("/series").get_data(as_text=True)
    page = client.get("/series/1").get_data(as_text=True)
    for html in (listing, page):
        assert "None" not in html and "torch" in html
    assert "driver" not in page and "CUDA" not in page


def test_the_roofline_applies_to_gpu_results_only(interpreter_store):
    client, _ = interpreter_store
    html = client.get("/roofline").get_data(as_text=True)
    assert "1 series measured without a GPU" in html and "No GPU results yet" in html
    assert 'id="roofline"' not in html and "µ" not in html


def test_the_compare_page_names_the_gpu(interpreter_store):
    client, data = interpreter_store
    base, head = _doc(0, [1.0], seed=0)["run"]["commit"]["sha"], data["run"]["commit"]["sha"]
    html = client.get(f"/compare?base={base[:10]}&head={head[:10]}").get_data(as_text=True)
    assert "cpu (Triton interpreter)" in html


def test_the_commit_page_colours_only_judged_changes(populated, client):
    """Commit 8: case0 +8% (a latency finding, red), case1 -10% (an improvement, green); the unchanged
    cases' small differences are grey with the judge's reason; commit 10's incorrect result too."""
    from perfci.testing import sha_for

    html = client.get(f"/commit/{sha_for('commit-8')}").get_data(as_text=True)
    assert html.count('class="worse"') == 1 and html.count('class="better"') == 1
    assert html.count('class="muted unjudged"') >= 1 and 'title="' in html
    wrong = client.get(f"/commit/{sha_for('commit-10')}").get_data(as_text=True)
    assert 'class="worse"' not in wrong.split("<h2>Runs")[0].split("case2")[1].split("</tr>")[0]


def test_the_compare_page_colours_only_verdicts(populated, client):
    """Commit 7 -> 8: case0 a regression (red), case1 an improvement (green), the two unchanged
    cases `same` and grey, whatever the sign of their +0.0%."""
    from perfci.testing import sha_for

    html = client.get(f"/compare?base={sha_for('commit-7')[:10]}&head={sha_for('commit-8')[:10]}").get_data(
        as_text=True
    )
    assert html.count('class="worse"') == 1 and html.count('class="better"') == 1
    assert html.count('class="muted unjudged" title="same:') == 2


def test_each_point_says_what_its_processes_autotuned(populated, client):
    """Every result of the populated store ran 5 processes, each recording kernel BLOCK_M 64."""
    series = client.get("/api/series?q=case0").get_json()["items"][0]
    points = client.get(f"/api/series/{series['id']}").get_json()["points"]
    assert {p["autotune"] for p in points} == {"kernel BLOCK_M 64 x5"}
    page = client.get(f"/series/{series['id']}").get_data(as_text=True)
    assert "kernel BLOCK_M 64 x5" in page  # in the chart's hover data


def test_a_suspected_change_is_grey_where_findings_are_listed(db_url):
    """One process 10% slower after a quiet history: suspected, never red on the Regressions page."""
    from dashboard import create_app
    from perfci.config import PerfciConfig
    from perfci.document import parse_document
    from perfci.pipeline import process_document
    from perfci.store.migrate import open_store
    from tests.store.test_judge import _doc

    store = open_store(db_url)
    for commit in range(7):
        process_document(store, PerfciConfig(), parse_document(_doc(commit, [1.0], seed=commit)))
    (finding,) = process_document(store, PerfciConfig(), parse_document(_doc(7, [1.1], seed=7))).findings
    assert finding.kind == "suspected"
    store.dispose()
    app = create_app(db_url, PerfciConfig())
    html = app.test_client().get("/regressions?status=all").get_data(as_text=True)
    app.extensions["perfci"]["store"].dispose()
    assert 'class="worse"' not in html and 'title="suspected: not confirmed' in html

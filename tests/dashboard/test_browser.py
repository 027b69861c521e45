"""A real browser (Debian's chromium through playwright, headless) against `perfci serve`'s stack
(waitress): open the overview, follow a regression to its series page, see the chart drawn with no
console error, sign in and triage it. Screenshots go to $PERFCI_SCREENSHOTS (default: the test's tmp)."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from dashboard import create_app
from tests.dashboard.conftest import WRITE_TOKEN, _config

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow


@pytest.fixture
def server(populated):
    import waitress

    app = create_app(populated[0], _config(public=True))
    wsgi = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{wsgi.effective_port}"
    wsgi.close()
    app.extensions["perfci"]["store"].dispose()


def _need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("PERFCI_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is required (PERFCI_REQUIRE_BROWSER) but missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


def test_overview_to_series_chart_to_triage(server, tmp_path):
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PERFCI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(f"{server}/")
        expect(page.locator("h1")).to_have_text("Overview")
        page.screenshot(path=shots / "overview.png", full_page=True)

        page.locator("table.regressions a.series-link").first.click()
        expect(page.locator("h1")).to_have_text("decode/bf16/case0")
        page.wait_for_selector("#trend .main-svg")  # Plotly drew the chart
        assert page.locator("#trend .scatterlayer .trace").count() >= 3  # band, median, regression markers
        # commit order by default: evenly spaced, each tick a short sha and a date
        ticks = page.locator("#trend .xtick text").all_text_contents()
        assert ticks and all(re.match(r"^[0-9a-f]{7}\d{4}-\d{2}-\d{2}$", tick) for tick in ticks), ticks
        page.get_by_role("link", name="commit time").click()
        page.wait_for_selector("#trend .main-svg")
        assert not any(
            re.match(r"^[0-9a-f]{7}", tick) for tick in page.locator("#trend .xtick text").all_text_contents()
        )
        page.get_by_role("link", name="commit order").click()
        page.wait_for_selector("#trend .main-svg")
        page.locator("#trend").hover()
        page.screenshot(path=shots / "series.png", full_page=True)

        page.get_by_role("link", name="Sign in").click()
        page.fill("input[name=token]", WRITE_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("h1")).to_have_text("decode/bf16/case0")  # back where we were
        row = page.locator("tr[id^=regression-]").first
        row.locator("select[name=status]").select_option("acknowledged")
        row.locator("input[name=note]").fill("tiling change, investigating")
        row.locator("input[name=author]").fill("ada")
        row.get_by_role("button", name="Triage").click()
        expect(page.locator(".flash")).to_contain_text("is now acknowledged")
        expect(page.locator("tr[id^=regression-]").first).to_contain_text("tiling change, investigating")
        page.screenshot(path=shots / "series-triaged.png", full_page=True)

        # the regressions page groups findings by commit; one form triages a whole group (all or none)
        page.goto(f"{server}/regressions?status=all")
        group = page.locator("tr.group", has=page.locator("form.group-triage")).first
        count = int(group.get_by_role("button").text_content().split()[-1])
        group.locator("select[name=status]").select_option("expected")
        group.locator("input[name=note]").fill("one tiling change")
        group.get_by_role("button").click()
        expect(page.locator(".flash")).to_contain_text(f"{count} regressions are now expected")
        assert page.locator("tr[id^=regression-]", has_text="one tiling change").count() == count
        page.screenshot(path=shots / "regressions-grouped.png", full_page=True)
        browser.close()
    assert problems == []


def test_colours_follow_verdicts_and_groups_follow_commit_ranges(server, tmp_path):
    """The commit page as drawn: the confirmed regression red, the improvement green, unjudged
    differences grey with the judge's reason on hover; the overview's grouping switches to commit
    ranges and leads to the same group on the regressions page."""
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    from perfci.testing import sha_for

    shots = Path(os.environ.get("PERFCI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/commit/{sha_for('commit-8')}")

        def colour(selector: str) -> list[str]:
            return page.locator(selector).evaluate_all("els => els.map(e => getComputedStyle(e).color)")

        assert colour("table .worse") == ["rgb(198, 40, 40)"]  # --bad
        assert colour("table .better") == ["rgb(46, 125, 50)"]  # --good
        grey = colour("table .unjudged")
        assert grey and set(grey) == {"rgb(107, 114, 128)"}  # --muted
        assert page.locator("table .unjudged").first.get_attribute("title")  # why it is not judged
        page.screenshot(path=shots / "commit.png", full_page=True)

        page.goto(f"{server}/")
        page.get_by_role("link", name="commit range").click()
        expect(page.locator("h2", has_text="Open findings by commit range")).to_be_visible()
        page.get_by_role("link", name=re.compile(r"triage these \d+ →")).first.click()
        assert "group=range" in page.url and "#range-" in page.url
        target = page.url.split("#")[1]
        expect(page.locator(f"tr.group#{target}")).to_be_visible()
        expect(page.locator("p.tabs a.current", has_text="commit range")).to_be_visible()
        page.screenshot(path=shots / "regressions-by-range.png", full_page=True)

        seven, eight = sha_for("commit-7")[:10], sha_for("commit-8")[:10]
        page.goto(f"{server}/compare?base={seven}&head={eight}")
        expect(page.locator("table").first).to_contain_text("decode/bf16/case0")
        page.screenshot(path=shots / "compare.png", full_page=True)
        page.goto(f"{server}/roofline")
        page.wait_for_selector("#roofline .main-svg")
        page.screenshot(path=shots / "roofline.png", full_page=True)
        browser.close()


EVIL = '<a href="https://evil.example/">pwn</a>'


def test_document_strings_in_charts_are_text_never_markup(tmp_path, db_url):
    """A device name and an op holding a link reach the roofline chart's legend and hover as text."""
    _need_chromium()
    import waitress
    from playwright.sync_api import sync_playwright

    from perfci.config import PerfciConfig
    from perfci.document import parse_document
    from perfci.pipeline import process_document
    from perfci.store.migrate import open_store
    from tests.store.test_judge import _doc

    store = open_store(db_url)
    data = _doc(0, [1.0], seed=0)
    data["run"]["environment"]["device_name"] = EVIL
    data["run"]["environment"]["extra"] = {"ceilings": {"copy_gbps": 4000.0, "bf16_tflops": 700.0}}
    data["results"][0]["op"] = EVIL[:64]
    data["results"][0]["metrics"].update(tflops=100.0, gbps=900.0, useful_flops=1e12, min_bytes=1e9)
    process_document(store, PerfciConfig(), parse_document(data))
    store.dispose()
    app = create_app(db_url, _config(public=True))
    wsgi = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=wsgi.run, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{wsgi.effective_port}/roofline")
            page.wait_for_selector("#roofline .main-svg")
            box = page.locator("#roofline .scatterlayer .point").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_selector("#roofline .hoverlayer text")
            assert page.locator("#roofline a").count() == 0  # Plotly makes <a> of link markup in its SVG
            legend = page.locator("#roofline .legendtext").all_text_contents()
            assert any("<a href" in text for text in legend)  # shown as the literal text it is
            browser.close()
    finally:
        wsgi.close()
        app.extensions["perfci"]["store"].dispose()

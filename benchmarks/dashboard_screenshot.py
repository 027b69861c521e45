"""Screenshot of a series page of the benchmark store (the image in the README).

Usage: python benchmarks/dashboard_screenshot.py [--db /tmp/perfci-dash-bench.db] [--series 3]
       [--out docs/dashboard-series.png]
Build the store first with benchmarks/dashboard_bench.py. Serves it with waitress, signs in (so the
triage forms show), opens /series/ID in headless Debian chromium and saves the viewport.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import waitress
from playwright.sync_api import sync_playwright

from dashboard import create_app
from perfci.config import PerfciConfig, ServerConfig
from perfci.tokens import hash_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="/tmp/perfci-dash-bench.db")
    parser.add_argument("--series", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard-series.png"))
    args = parser.parse_args()
    config = PerfciConfig(server=ServerConfig(write_tokens=[hash_token("screenshot")], secret_key="screenshot"))
    app = create_app(f"sqlite:///{args.db}", config)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1050})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/login")
        page.fill("input[name=token]", "screenshot")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/series/{args.series}")
        page.wait_for_selector("#trend .main-svg")
        page.screenshot(path=str(args.out))
        browser.close()
    if errors:
        raise SystemExit(f"console errors: {errors}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""A bisected regression shows its culprit (linked to its commit) on the Regressions page and in
/api/regressions, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from perfci.store import models
from tests.dashboard.conftest import as_json


def test_the_culprit_of_a_bisected_regression_is_shown_and_linked(app, client):
    row = as_json(client.get("/api/regressions"))["items"][0]
    assert row["bisect"] is None  # not bisected
    culprit = row["commit"]
    search = {"culprits": [{"commit": culprit, "share": 0.97, "verified": True}], "unresolved": None}
    verdict = {**row["verdict"], "confirmation": {"kind": "regression", "pairs": 8, "reason": "+5%", "bisect": search}}
    with app.extensions["perfci"]["store"].write() as session:
        session.execute(update(models.Regression).where(models.Regression.id == row["id"]).values(verdict=verdict))
    shown = next(r for r in as_json(client.get("/api/regressions"))["items"] if r["id"] == row["id"])
    assert shown["bisect"] == {"state": "culprit", "culprits": [{"commit": culprit, "share": 0.97}], "range": None}
    page = client.get("/regressions").get_data(as_text=True)
    assert 'class="small bisect culprit"' in page and "(97% of it)" in page
    assert f'href="/commit/{culprit}"' in page

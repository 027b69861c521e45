"""Schemathesis against the served OpenAPI description: generated requests to every operation
(valid and invalid parameters, bodies and tokens) never get a 5xx, and error bodies are JSON that
name the problem. Driven through schemathesis' strategies with hypothesis directly (its pytest
plugin does not load under this pytest)."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from dashboard import create_app
from tests.dashboard.conftest import WRITE_TOKEN, _config, populate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web_schema(module_db_url):
    db_url = module_db_url
    populate(db_url)
    app = create_app(db_url, _config(public=True))
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    app.extensions["perfci"]["store"].dispose()


def test_no_operation_answers_with_a_server_error(web_schema):
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) >= 11
    seen: dict[str, set[int]] = {}
    for operation, mode in itertools.product(operations, list(GenerationMode)):
        label = f"{mode.value} {operation.label}"

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {WRITE_TOKEN}"}
            response = case.call()
            case.validate_response(response, checks=[not_a_server_error])
            seen.setdefault(label, set()).add(response.status_code)  # noqa: B023 (check runs in this iteration)
            if response.status_code >= 400:
                body = response.json()
                assert body["message"] and "Traceback" not in body["message"], body

        try:
            check()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, label  # an operation without parameters has no invalid form
    assert all(max(codes) < 500 for codes in seen.values()), seen
    # the invalid requests were really invalid: they reached the error paths
    assert any(
        code in (400, 404, 422) for label, codes in seen.items() if label.startswith("negative") for code in codes
    )

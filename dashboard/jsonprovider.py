"""JSON answers that are always valid JSON: a non-finite float becomes null (``perfci.jsonvalues``)."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

from perfci.jsonvalues import finite


class FiniteJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        try:
            return json.dumps(obj, allow_nan=False, **kwargs)
        except ValueError:  # a non-finite float somewhere: the rare path walks the value
            return json.dumps(finite(obj), allow_nan=False, **kwargs)

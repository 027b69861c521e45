"""The median `perfci run` prints is the one the store keeps (interpolated for even counts)."""

from __future__ import annotations

from perfci.analysis.summary import summarize
from perfci.cli.run import _summary
from perfci.testing import make_document


def test_the_printed_median_is_the_stored_one():
    document = make_document(cases=1)
    document["results"][0]["samples"] = [1.0, 2.0, 3.0, 100.0]
    table = _summary(document)
    printed = next(iter(table.columns[2].cells))
    assert printed == f"{summarize([1.0, 2.0, 3.0, 100.0]).median:.4f}" == "2.5000"

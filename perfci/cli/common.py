"""What every subcommand shares: the --db option and the exit-code-2 error."""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from perfci.config import ConfigError, PerfciConfig, load_config
from perfci.findings import FINDING_KINDS
from perfci.runner.adapter import ADAPTER_ENV, use_adapter
from perfci.runner.probe import Probe, ProbeError, probe
from perfci.store.engine import DB_ENV_VAR, Store, StoreConfigError, resolve_db_url
from perfci.store.migrate import open_store
from perfci.suite.cases import TIERS, SuiteCase, tier


class BadInput(click.ClickException):
    """Bad usage or bad input: printed as one clear message, exit code 2."""

    exit_code = 2


def db_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_url",
        envvar=DB_ENV_VAR,
        default=None,
        metavar="URL",
        help=f"Database URL (sqlite:///file.db or postgresql://...); default ${DB_ENV_VAR}, else sqlite:///perfci.db.",
    )(function)


BROKER_ENV_VAR = "PERFCI_BROKER"


def broker_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--broker",
        "broker_url",
        envvar=BROKER_ENV_VAR,
        default=None,
        metavar="URL",
        help=f"Celery broker of the worker pool (amqp://guest:guest@127.0.0.1:5672// or redis://127.0.0.1:6379/0); "
        f"default ${BROKER_ENV_VAR}.",
    )(function)


def absolute_db_url(db_url: str | None) -> str:
    """``--db`` resolved, an SQLite file made absolute: a job's command runs in another directory."""
    try:
        url = make_url(resolve_db_url(db_url))
    except StoreConfigError as error:
        raise BadInput(str(error)) from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


@contextmanager
def opened_store(db_url: str | None) -> Iterator[Store]:
    """The store for ``--db``, disposed of when the block ends (a bad URL is exit 2)."""
    store = open_store_or_fail(db_url)
    try:
        yield store
    finally:
        store.dispose()


def open_store_or_fail(db_url: str | None) -> Store:
    try:
        return open_store(db_url)
    except StoreConfigError as error:
        raise BadInput(str(error)) from None


def adapter_from_config(config: PerfciConfig) -> None:
    """The config's ``[kernels] adapter``, unless --adapter or $PERFCI_ADAPTER named one."""
    if config.kernels.adapter is not None and ADAPTER_ENV not in os.environ:
        use_adapter(config.kernels.adapter)


def _adapter_option(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        use_adapter(value)


def selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """What to measure and where, as `perfci run` and `perfci compare` both take it."""
    for option in reversed(
        (
            click.option(
                "--suite", default=None, help=f"Tier: {', '.join(TIERS)} (default: smoke on CUDA, tiny otherwise)."
            ),
            click.option(
                "--cases", "case_patterns", multiple=True, metavar="PATTERN", help="Only cases whose id matches."
            ),
            click.option(
                "--device", type=click.Choice(["auto", "cuda", "interpreter"]), default="auto", show_default=True
            ),
            click.option(
                "--repo", "repo_path", default=".", show_default=True, help="A path inside the tracked checkout."
            ),
            click.option(
                "--adapter",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                expose_value=False,
                callback=_adapter_option,
                help="A Python file, outside the tracked repo, mapping its own functions onto the kernels.swa "
                "contract (default: [kernels] adapter of perfci.toml, or $PERFCI_ADAPTER).",
            ),
        )
    ):
        function = option(function)
    return function


def plan_cases(
    device: str, suite: str | None, patterns: tuple[str, ...], ceilings: bool = False
) -> tuple[Probe, str, list[SuiteCase]]:
    """(the device found, suite, cases) for the options of :func:`selection_options`, or exit 2
    naming the option: the device (auto) and its environment (and with ``ceilings`` the card's), the
    tier for it, the tier's cases the patterns select."""
    probe = probe_device(device, ceilings)
    suite = suite or ("smoke" if probe.device == "cuda" else "tiny")
    if suite not in TIERS:
        raise BadInput(f"--suite: {suite!r} is not one of {', '.join(TIERS)}")
    if probe.device == "interpreter" and suite != "tiny":
        raise BadInput(f"--suite {suite}: GPU-sized cases under the interpreter would take days; use --suite tiny")
    return probe, suite, select_cases(suite, patterns)


def select_cases(suite: str, patterns: tuple[str, ...]) -> list[SuiteCase]:
    """The tier's cases whose id matches one of ``patterns`` (glob or substring); all without patterns."""
    cases = tier(suite)
    if patterns:
        cases = [c for c in cases if any(fnmatch.fnmatch(c.id, p) or p in c.id for p in patterns)]
        if not cases:
            raise BadInput(f"--cases: no case of the {suite!r} tier matches {', '.join(patterns)}")
    return cases


def probe_device(requested: str, ceilings: bool = False) -> Probe:
    """``auto`` -> cuda when a device is visible, else the Triton interpreter; found in a worker
    process (``perfci.runner.probe``), so this one never imports torch; exit 2 when ``cuda`` is
    asked for and none is visible."""
    try:
        return probe(requested, ceilings)
    except ProbeError as error:
        raise BadInput(str(error)) from None


def answer_timeout_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--timeout`` of the commands that drive workers a line at a time (compare, bisect)."""
    return click.option(
        "--timeout",
        "timeout_s",
        default=600.0,
        show_default=True,
        type=click.FloatRange(min=0, min_open=True),
        help="Seconds a worker may take to answer.",
    )(function)


def config_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (webhooks, pinned baseline); default $PERFCI_CONFIG, else ./perfci.toml when present.",
    )(function)


def load_config_or_fail(path: Path | None) -> PerfciConfig:
    try:
        return load_config(path)
    except ConfigError as error:
        raise BadInput(str(error)) from None


def report_deliveries(deliveries: list[Any]) -> None:
    """Say where alerts went; a failure is printed in red (and kept for `perfci alerts --retry`)."""
    for delivery in deliveries:
        if delivery.status == "sent":
            click.echo(f"alert sent to webhook {delivery.webhook!r}", err=True)
        else:
            click.secho(
                f"webhook {delivery.webhook!r} failed after {delivery.attempts} attempt(s): {delivery.error}\n"
                "The run is stored; `perfci alerts --retry` re-sends the alert.",
                fg="red",
                err=True,
            )


def report_not_judged(not_judged: list[Any], sha: str) -> None:
    """Say which cases' latency did not gate at a commit, and why (history too short, too noisy,
    suspected but not confirmed, interpreter timing), so silence is never read as "judged and clean"."""
    for item in not_judged:
        click.echo(f"not judged at {sha[:12]}: {item.case}: {item.reason}", err=True)


def summary_line(run_id: str, sha: str, where: str, baseline: str, findings: list[Any], not_judged: list[Any]) -> str:
    """The line a run ends with: which run, where it went, against what, what was found and what was
    not judged and why (so a quiet run is never mistaken for a judged one)."""
    kinds = Counter(f.kind for f in findings)
    found = ", ".join(f"{kinds[k]} {k}" for k in FINDING_KINDS if kinds[k]) or "no finding"
    reasons = Counter(item.reason.split(";")[0].split(":")[0] for item in not_judged)
    unjudged = ", ".join(f"{reason}: {count}" for reason, count in reasons.most_common(3))
    tail = f"; {len(not_judged)} not judged ({unjudged})" if not_judged else "; every case judged"
    return f"run {run_id} of {sha[:12]} {where}, vs {baseline}: {found}{tail}"


def echo_columns(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    """Plain aligned columns, one line a row, the last column unpadded (it may be long): what a CI
    log shows whole, where a drawn table would wrap."""
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header) - 1)]
    for line in [header, *lines]:
        padded = [value.ljust(width) for value, width in zip(line, widths, strict=False)]
        click.echo("  ".join([*padded, line[-1]]))

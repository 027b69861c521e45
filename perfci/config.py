"""The optional config file (``perfci.toml``): webhooks, a pinned baseline, detection, the server's tokens.

Found at ``--config FILE``, else ``$PERFCI_CONFIG``, else ``./perfci.toml`` when it exists; no file
means no webhooks and no pinned baseline. Header values may name environment variables as
``${NAME}`` so secrets stay out of the file. Every error names the file and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from perfci.analysis.noise import ThresholdPolicy
from perfci.analysis.verdict import per_look_alpha, planned_looks

CONFIG_ENV_VAR = "PERFCI_CONFIG"
DEFAULT_CONFIG = Path("perfci.toml")
#: pairs before a confirmation's first look (one pair cannot tell a change from a lucky process)
CONFIRM_MIN_PAIRS = 2
FindingKind = Literal["latency", "correctness", "missing", "improvement", "suspected"]


class ConfigError(ValueError):
    """The config file cannot be used; the message names the file, the field and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Webhook(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    url: str
    #: "slack": a Slack-compatible body ({"text", "blocks"}); "json": the generic perfci.alert/1 body
    format: Literal["slack", "json"] = "json"
    kinds: list[FindingKind] = Field(default_factory=lambda: ["latency", "correctness", "missing"], min_length=1)
    attempts: int = Field(default=4, ge=1, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url

    def resolved_headers(self) -> dict[str, str]:
        """Headers with ``${NAME}`` replaced from the environment; a missing variable is an error."""

        def expand(match: re.Match[str]) -> str:
            return _env(match.group(1), f"webhook {self.name!r}: a header")

        return {key: re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", expand, value) for key, value in self.headers.items()}


class DetectionConfig(_Strict):
    """``[detection]``: whether interpreter latency gates, and how ``perfci run`` confirms a suspicion."""

    #: latency under Triton's interpreter times Python, not the kernel: reported, gating only when true
    gate_interpreter: bool = False
    #: re-measure suspected regressions in fresh process pairs (baseline vs head) before gating on them
    confirm: bool = True
    #: seconds of re-measurement per suspected case (a pair of processes on an H200 takes about 13 s)
    confirm_budget_s: float = Field(default=600.0, gt=0, le=3600)
    confirm_max_pairs: int = Field(default=64, ge=2, le=256)
    #: family-wise significance of one confirmation over its looks: every suspicion of every push is
    #: confirmed, so a false confirmation must be rare per suspicion, not per push
    confirm_alpha: float = Field(default=0.002, gt=0, le=0.05)
    #: a gating regression (confirmed, or proved by the run's own processes) whose baseline is
    #: several commits back (a push of several commits measured at its head) is bisected over those
    #: commits, and the culprit named in its finding
    bisect: bool = False

    @model_validator(mode="after")
    def _can_confirm(self) -> DetectionConfig:
        if self.confirm and self.confirm_alpha_per_look() == 0.0:
            raise ValueError(
                f"confirm_max_pairs = {self.confirm_max_pairs} can never confirm at confirm_alpha = "
                f"{self.confirm_alpha}: the paired test needs more pairs; raise confirm_max_pairs (16 or more)"
            )
        return self

    def confirm_alpha_per_look(self) -> float:
        """The alpha of each look of a confirmation (``confirm_alpha`` split over its looks)."""
        return per_look_alpha(self.confirm_alpha, planned_looks(CONFIRM_MIN_PAIRS, self.confirm_max_pairs))

    def policy(self) -> ThresholdPolicy:
        return ThresholdPolicy(gate_interpreter=self.gate_interpreter)


class BaselineConfig(_Strict):
    #: a tag, branch or commit every push is judged against, or ``run:UUID`` for a marked run
    pin: str | None = None


TokenHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class ServerConfig(_Strict):
    """`perfci serve`: who may write, whether reads are public, the session key for forms."""

    #: sha256 hashes of write tokens (``perfci token`` makes one); no hash -> the API accepts no writes
    write_tokens: list[TokenHash] = Field(default_factory=list)
    #: with ``public_reads = false``: hashes of tokens that may read (write tokens may read too)
    read_tokens: list[TokenHash] = Field(default_factory=list)
    public_reads: bool = True
    #: signs the session cookie (form logins, CSRF); ``${VAR}`` allowed; default: random per process
    secret_key: str | None = None
    max_document_mb: float = Field(default=64, gt=0, le=64)
    #: a browser sign-in ends after this long (and at sign-out, or when its token leaves the config)
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    #: open connections waitress accepts at once (it polls, so beyond select's 1024); more wait in
    #: the listen backlog. Connections still sending their request hold no worker thread.
    connection_limit: int = Field(default=1000, ge=10, le=10000)
    #: a connection idle this long (no bytes either way) is closed: half-open ones do not pile up
    idle_timeout_s: float = Field(default=30, ge=1, le=3600)
    #: send queued webhook deliveries from a thread of ``perfci serve`` (false: another server
    #: process on the same store, or ``perfci alerts --send``, does it)
    send_alerts: bool = True

    def resolved_secret_key(self) -> str | None:
        if self.secret_key is None:
            return None
        return re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: _env(m.group(1), "server.secret_key"), self.secret_key
        )


def _env(name: str, where: str) -> str:
    if name not in os.environ:
        raise ConfigError(f"{where} refers to ${{{name}}}, which is not set")
    return os.environ[name]


class KernelsConfig(_Strict):
    """``[kernels]``: how the tracked repository's kernels are loaded."""

    #: a Python file mapping the repo's own functions onto the kernels.swa contract (relative to
    #: this config file); none: the repo ships ``kernels.swa``
    adapter: Path | None = None


class PerfciConfig(_Strict):
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    kernels: KernelsConfig = Field(default_factory=KernelsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    webhooks: list[Webhook] = Field(default_factory=list, alias="webhook")
    server: ServerConfig = Field(default_factory=ServerConfig)


def load_config(path: Path | None = None) -> PerfciConfig:
    """The config at ``path`` / $PERFCI_CONFIG / ./perfci.toml, or the defaults when there is none."""
    explicit = path or (Path(os.environ[CONFIG_ENV_VAR]) if os.environ.get(CONFIG_ENV_VAR) else None)
    chosen = explicit or DEFAULT_CONFIG
    if not chosen.exists():
        if explicit:
            raise ConfigError(f"{chosen}: no such config file; fix --config or ${CONFIG_ENV_VAR}")
        return PerfciConfig()
    try:
        data = tomllib.loads(chosen.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{chosen}: not valid TOML ({error})") from None
    try:
        config = PerfciConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{chosen}: {where}: {first['msg']}") from None
    if config.kernels.adapter is not None:
        adapter = (chosen.parent / config.kernels.adapter).resolve()
        if not adapter.is_file():
            raise ConfigError(f"{chosen}: kernels.adapter: no such file {adapter}")
        config.kernels.adapter = adapter
    names = [hook.name for hook in config.webhooks]
    if len(names) != len(set(names)):
        raise ConfigError(f"{chosen}: webhook names must be unique (got {', '.join(names)})")
    return config

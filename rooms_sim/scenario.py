"""Simulation scenarios: TOML files validated into a frozen pydantic model tree.

A scenario fixes everything a run depends on besides the code: the seed, the simulated span,
the assets and their price models, the oracle's imperfections, the agent population, the room
creation process and the fees. ``load_scenario("default")`` loads a bundled scenario from
``rooms_sim/scenarios/``; any other argument is a path. Every problem is reported as a
:class:`ScenarioError` naming the file and the offending field (``agents.noise``,
``assets[2].model.s0``) or the TOML line and column.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rooms_core.base58 import is_solana_address
from rooms_core.models import Asset, AssetKind, Metric
from rooms_core.money import sol
from rooms_sim.prices import (
    DEFAULT_STEP,
    CsvReplay,
    GeometricBrownianMotion,
    JumpDiffusion,
    PriceDataError,
    PriceModel,
)

__all__ = [
    "SCENARIOS_DIR",
    "STRATEGIES",
    "AgentsConfig",
    "AssetConfig",
    "CsvModelConfig",
    "FeesConfig",
    "GbmModelConfig",
    "JumpModelConfig",
    "ModelConfig",
    "OracleConfig",
    "OutageWindow",
    "RoomsConfig",
    "Scenario",
    "ScenarioError",
    "available_scenarios",
    "build_price_model",
    "load_scenario",
]

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
"""Where the bundled scenarios live."""

STRATEGIES = ("noise", "informed", "herder", "contrarian", "whale", "late")
"""The betting strategies, in the order of the ``[agents]`` counts."""

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]
_MODEL_TAGS = frozenset({"gbm", "jump", "csv"})


class ScenarioError(Exception):
    """A scenario could not be loaded; ``str()`` is one ``file: where: what`` line per problem.

    ``problems`` holds ``(where, what)`` pairs; ``where`` is a dotted field path such as
    ``agents.noise`` or ``assets[0].model.s0``, ``line 3, column 9`` for TOML syntax errors, or
    empty when the problem concerns the whole file.
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(
                f"{source}: {where}: {what}" if where else f"{source}: {what}"
                for where, what in self.problems
            )
        )


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("scenario", message)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# Assets and price models


class GbmModelConfig(_Section):
    """Geometric Brownian motion (annualised drift and volatility)."""

    type: Literal["gbm"]
    s0: float = Field(gt=0.0)
    drift: float = 0.0
    volatility: float = Field(gt=0.0)


class JumpModelConfig(_Section):
    """Merton jump diffusion; ``jump_intensity`` is jumps per year, jump sizes are log-normal."""

    type: Literal["jump"]
    s0: float = Field(gt=0.0)
    drift: float = 0.0
    volatility: float = Field(gt=0.0)
    jump_intensity: float = Field(ge=0.0)
    jump_mean: float = 0.0
    jump_stdev: float = Field(ge=0.0)


class CsvModelConfig(_Section):
    """Replay of a ``timestamp,price`` CSV; a relative path is relative to the scenario file."""

    type: Literal["csv"]
    path: Path

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        context = info.context if isinstance(info.context, dict) else {}
        base = context.get("base_dir")
        if isinstance(base, Path) and not path.is_absolute():
            path = base / path
        if base is not None and not path.is_file():
            raise _fail(f"price data file not found: {path}")
        return path


ModelConfig = Annotated[
    GbmModelConfig | JumpModelConfig | CsvModelConfig, Field(discriminator="type")
]


class AssetConfig(_Section):
    """One asset rooms can be about, and how its true price moves."""

    symbol: str = Field(pattern=r"^[A-Za-z0-9]{1,16}$")
    kind: AssetKind = AssetKind.COIN
    mint: str | None = Field(default=None, validate_default=True)
    metric: Metric = Metric.PRICE_USD
    model: ModelConfig
    weight: float = Field(1.0, gt=0.0)

    @field_validator("mint")
    @classmethod
    def _mint_matches_kind(cls, mint: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is AssetKind.TOKEN:
            if mint is None:
                raise _fail("a TOKEN asset needs a mint address")
            if not is_solana_address(mint):
                raise _fail(f"{mint!r} is not a base58 32-byte mint address")
        elif kind is AssetKind.COIN and mint is not None:
            raise _fail("only TOKEN assets have a mint; remove it or set kind = 'TOKEN'")
        return mint

    @property
    def asset(self) -> Asset:
        """The domain asset: the upper-case symbol of a coin, or the mint of a token."""
        asset_id = self.mint if self.kind is AssetKind.TOKEN and self.mint else self.symbol.upper()
        return Asset(kind=self.kind, id=asset_id, metric=self.metric)

    @property
    def label(self) -> str:
        """A short human label: ``SOL``, or ``PUMP market cap``."""
        if self.metric is Metric.MARKET_CAP_USD:
            return f"{self.symbol} market cap"
        return self.symbol


# --------------------------------------------------------------------------------------------
# Sections


class OutageWindow(_Section):
    """Hours (since the start) during which every oracle source is down, for one or all assets."""

    start_hour: float = Field(ge=0.0)
    end_hour: float = Field(gt=0.0)
    asset: str | None = None  # a symbol from [[assets]]; None: every asset

    @field_validator("end_hour")
    @classmethod
    def _after_start(cls, end_hour: float, info: ValidationInfo) -> float:
        start = info.data.get("start_hour")
        if start is not None and end_hour <= start:
            raise _fail(f"end_hour ({end_hour}) must be after start_hour ({start})")
        return end_hour

    def covers(self, hour: float, symbol: str) -> bool:
        """Whether the window silences ``symbol`` at ``hour`` (start inclusive, end exclusive)."""
        return self.start_hour <= hour < self.end_hour and self.asset in (None, symbol)


class OracleConfig(_Section):
    """The simulated price sources and the oracle's consensus rules."""

    sources: int = Field(3, ge=1)
    noise_bps: float = Field(5.0, ge=0.0)  # per-source relative gaussian noise (stdev)
    stale_probability: Probability = 0.0  # per poll per source: repeat the previous quote
    outage_probability: Probability = 0.0  # per poll per source: no answer
    outage_windows: tuple[OutageWindow, ...] = ()
    max_age_seconds: float = Field(30.0, gt=0.0)
    quorum: int = Field(2, ge=1, validate_default=True)
    max_deviation_bps: float = Field(200.0, ge=0.0)
    poll_seconds: float = Field(DEFAULT_STEP, gt=0.0)

    @field_validator("quorum")
    @classmethod
    def _quorum_reachable(cls, quorum: int, info: ValidationInfo) -> int:
        sources = info.data.get("sources")
        if sources is not None and quorum > sources:
            raise _fail(f"quorum ({quorum}) cannot exceed the number of sources ({sources})")
        return quorum


class AgentsConfig(_Section):
    """The agent population: bettors per strategy, hosts, and their habits."""

    noise: Count = 40
    informed: Count = 15
    herder: Count = 15
    contrarian: Count = 15
    whale: Count = 5
    late: Count = 10
    hosts: int = Field(10, ge=1)
    initial_deposit_sol: tuple[float, float] = (5.0, 50.0)
    whale_deposit_sol: float = Field(2000.0, gt=0.0)
    referral_probability: Probability = 0.6
    withdraw_probability: Probability = 0.02  # per agent per simulated hour
    bet_probability: Probability = 0.05  # per agent per decision tick
    decision_interval_seconds: float = Field(60.0, gt=0.0)

    @field_validator("whale_deposit_sol")
    @classmethod
    def _whole_lamports(cls, value: float) -> float:
        try:
            sol(repr(value))
        except ValueError:
            message = f"must be a whole number of lamports (9 decimals at most), got {value}"
            raise _fail(message) from None
        return value

    @property
    def whale_deposit(self) -> int:
        """``whale_deposit_sol`` in lamports, converted exactly from the number written (a
        float times 10^9 can land a lamport short: 2.01 * 10^9 is 2009999999.9999998)."""
        return sol(repr(self.whale_deposit_sol))

    @field_validator("initial_deposit_sol")
    @classmethod
    def _deposit_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0.0 < low <= high:
            raise _fail(f"must be [min, max] with 0 < min <= max, got [{low}, {high}]")
        return value

    @model_validator(mode="after")
    def _someone_bets(self) -> AgentsConfig:
        if self.bettors < 1:
            raise _fail("at least one bettor is needed (all strategy counts are 0)")
        return self

    @property
    def by_strategy(self) -> dict[str, int]:
        """Bettor counts keyed by strategy name, in :data:`STRATEGIES` order."""
        return {name: int(getattr(self, name)) for name in STRATEGIES}

    @property
    def bettors(self) -> int:
        """Total number of betting agents (hosts excluded)."""
        return sum(self.by_strategy.values())


class RoomsConfig(_Section):
    """How hosts create rooms."""

    per_hour: float = Field(20.0, ge=0.0)
    min_duration_minutes: int = Field(15, ge=15, le=1440)
    max_duration_minutes: int = Field(1440, ge=15, le=1440, validate_default=True)
    target_spread: float = Field(0.03, gt=0.0, le=1.0)  # relative spread of targets
    min_players: int = Field(2, ge=1)

    @field_validator("max_duration_minutes")
    @classmethod
    def _not_below_min(cls, maximum: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_duration_minutes")
        if minimum is not None and maximum < minimum:
            raise _fail(f"must be >= min_duration_minutes ({minimum}), got {maximum}")
        return maximum


class FeesConfig(_Section):
    """Fees in basis points of the pool, and referral rewards in basis points of the fee."""

    protocol_bps: int = Field(200, ge=0, le=5000)
    host_bps: int = Field(100, ge=0, le=5000)
    referral_level_bps: tuple[Annotated[int, Field(ge=0, le=10_000)], ...] = (1500, 500, 200)

    @field_validator("referral_level_bps")
    @classmethod
    def _levels_fit(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        if sum(levels) > 10_000:
            raise _fail(f"referral levels pay out {sum(levels)} bps, more than the whole fee")
        return levels


class Scenario(_Section):
    """A complete, validated simulation scenario."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 1
    duration_hours: float = Field(24.0, gt=0.0, le=24.0 * 366)
    start: AwareDatetime = DEFAULT_START
    assets: tuple[AssetConfig, ...]
    oracle: OracleConfig = Field(default_factory=OracleConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    rooms: RoomsConfig = Field(default_factory=RoomsConfig)
    fees: FeesConfig = Field(default_factory=FeesConfig)

    @field_validator("start")
    @classmethod
    def _utc(cls, start: datetime) -> datetime:
        return start.astimezone(UTC)

    @field_validator("assets")
    @classmethod
    def _unique_symbols(cls, assets: tuple[AssetConfig, ...]) -> tuple[AssetConfig, ...]:
        if not assets:
            raise _fail("at least one [[assets]] entry is needed")
        seen: set[str] = set()
        for asset in assets:
            if asset.symbol in seen:
                raise _fail(f"symbol {asset.symbol!r} appears more than once")
            seen.add(asset.symbol)
        return assets

    @field_validator("oracle")
    @classmethod
    def _windows_name_assets(cls, oracle: OracleConfig, info: ValidationInfo) -> OracleConfig:
        assets: tuple[AssetConfig, ...] | None = info.data.get("assets")
        if assets is None:
            return oracle
        symbols = [asset.symbol for asset in assets]
        for i, window in enumerate(oracle.outage_windows):
            if window.asset is not None and window.asset not in symbols:
                raise _fail(
                    f"outage_windows[{i}].asset: unknown asset {window.asset!r} "
                    f"(known: {', '.join(symbols)})"
                )
        return oracle

    @property
    def duration_seconds(self) -> float:
        """The simulated span in seconds."""
        return self.duration_hours * 3600.0

    @property
    def total_agents(self) -> int:
        """Bettors plus hosts."""
        return self.agents.bettors + self.agents.hosts

    def asset_config(self, symbol: str) -> AssetConfig:
        """The ``[[assets]]`` entry with this symbol (``KeyError`` if none)."""
        for asset in self.assets:
            if asset.symbol == symbol:
                return asset
        raise KeyError(symbol)

    def outage_at(self, hour: float, symbol: str) -> bool:
        """Whether an outage window silences every source of ``symbol`` at ``hour``."""
        return any(window.covers(hour, symbol) for window in self.oracle.outage_windows)


# --------------------------------------------------------------------------------------------
# Loading


def available_scenarios() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return sorted(path.stem for path in SCENARIOS_DIR.glob("*.toml"))


def _bundled_name(path_or_name: str | Path) -> str | None:
    """The bundled-scenario name ``path_or_name`` stands for, or None if it is a path."""
    if isinstance(path_or_name, str) and not (
        "/" in path_or_name or "\\" in path_or_name or path_or_name.endswith(".toml")
    ):
        return path_or_name
    return None


def _where(loc: tuple[int | str, ...]) -> str:
    """``('assets', 0, 'model', 'gbm', 's0')`` -> ``assets[0].model.s0``."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif previous == "model" and part in _MODEL_TAGS:
            pass  # the discriminator tag pydantic inserts for the chosen union member
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out


_TOML_POSITION = re.compile(r"^(?P<what>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _toml_problem(exc: tomllib.TOMLDecodeError) -> tuple[str, str]:
    message = str(exc)
    match = _TOML_POSITION.match(message)
    if match is None:
        return "", f"invalid TOML: {message}"
    where = f"line {match['line']}, column {match['col']}"
    return where, f"invalid TOML: {match['what']}"


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Load and validate a scenario.

    A bare name (no directory separator, no ``.toml`` suffix), such as ``"default"``, is a
    bundled scenario in :data:`SCENARIOS_DIR`; anything else is a path to a TOML file. CSV
    paths of replayed assets are resolved against the scenario file's directory and their
    data is checked. Raises :class:`ScenarioError` on any problem.
    """
    name = _bundled_name(path_or_name)
    path = SCENARIOS_DIR / f"{name}.toml" if name is not None else Path(path_or_name)
    source = str(path)
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        bundled = ", ".join(available_scenarios()) or "none"
        what = "scenario file not found" if name is None else f"no bundled scenario {name!r}"
        raise ScenarioError(source, [("", f"{what} (bundled scenarios: {bundled})")]) from None
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, [("", f"not UTF-8 text: {exc.reason}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [_toml_problem(exc)]) from None

    try:
        scenario = Scenario.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        problems = [
            (_where(tuple(error["loc"])), error["msg"])
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ScenarioError(source, problems) from None

    data_problems: list[tuple[str, str]] = []
    for i, asset in enumerate(scenario.assets):
        if isinstance(asset.model, CsvModelConfig):
            try:
                CsvReplay.from_file(asset.model.path)
            except PriceDataError as exc:
                data_problems.append((f"assets[{i}].model.path", str(exc)))
    if data_problems:
        raise ScenarioError(source, data_problems)
    return scenario


def build_price_model(
    asset: AssetConfig, rng: random.Random, *, step: float = DEFAULT_STEP
) -> PriceModel:
    """The price model of ``asset``, on a grid of ``step`` seconds (use ``oracle.poll_seconds``).

    Stochastic models draw one seed from ``rng`` now and are then independent of it; a CSV
    replay draws nothing. Raises :class:`PriceDataError` for a malformed CSV.
    """
    model = asset.model
    if isinstance(model, GbmModelConfig):
        return GeometricBrownianMotion(model.s0, model.drift, model.volatility, rng, step=step)
    if isinstance(model, JumpModelConfig):
        return JumpDiffusion(
            model.s0,
            model.drift,
            model.volatility,
            model.jump_intensity,
            model.jump_mean,
            model.jump_stdev,
            rng,
            step=step,
        )
    return CsvReplay.from_file(model.path)

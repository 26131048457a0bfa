"""Scenario files: the bundled ones load, and bad ones fail naming the file and the field."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rooms_core.base58 import is_solana_address
from rooms_core.models import AssetKind, Metric
from rooms_sim.prices import CsvReplay, GeometricBrownianMotion, JumpDiffusion
from rooms_sim.scenario import (
    SCENARIOS_DIR,
    CsvModelConfig,
    JumpModelConfig,
    Scenario,
    ScenarioError,
    available_scenarios,
    build_price_model,
    load_scenario,
)

MINIMAL = """\
name = "tiny"
{top}
[[assets]]
symbol = "SOL"
model = {{ type = "gbm", s0 = 150.0, volatility = 0.9 }}
{tables}
"""


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _minimal(tmp_path: Path, top: str = "", tables: str = "") -> Path:
    return _write(tmp_path, MINIMAL.format(top=top, tables=tables))


def _error(path_or_name: str | Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path_or_name)
    return caught.value


# --- Bundled scenarios -------------------------------------------------------------------


def test_the_expected_scenarios_are_bundled() -> None:
    assert {"default", "stress", "replay", "oracle_outages"} <= set(available_scenarios())


@pytest.mark.parametrize("name", available_scenarios())
def test_every_bundled_scenario_loads_and_builds_its_price_models(name: str) -> None:
    scenario = load_scenario(name)

    assert scenario.name == name
    assert scenario.start.tzinfo is not None
    rng = random.Random(scenario.seed)
    for asset in scenario.assets:
        model = build_price_model(asset, rng, step=scenario.oracle.poll_seconds)
        assert model.price_at(scenario.duration_seconds) > 0
        assert asset.asset.kind is asset.kind


def test_loading_by_path_equals_loading_by_name() -> None:
    assert load_scenario(SCENARIOS_DIR / "default.toml") == load_scenario("default")
    assert load_scenario(str(SCENARIOS_DIR / "default.toml")) == load_scenario("default")


def test_default_is_a_day_with_coins_a_pump_token_and_an_outage() -> None:
    scenario = load_scenario("default")

    assert scenario.duration_hours == 24
    assert scenario.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert [a.symbol for a in scenario.assets] == ["SOL", "BTC", "PUMP"]
    token = scenario.asset_config("PUMP")
    assert token.kind is AssetKind.TOKEN
    assert token.metric is Metric.MARKET_CAP_USD
    assert token.mint is not None
    assert is_solana_address(token.mint)
    assert token.mint.endswith("pump")
    assert token.asset.id == token.mint
    assert isinstance(token.model, JumpModelConfig)
    assert 90 <= scenario.agents.bettors <= 120
    assert len(scenario.oracle.outage_windows) == 1
    window = scenario.oracle.outage_windows[0]
    assert scenario.outage_at((window.start_hour + window.end_hour) / 2, "SOL")
    assert not scenario.outage_at(window.end_hour, "SOL")


def test_stress_can_reach_two_thousand_rooms_and_many_bets() -> None:
    scenario = load_scenario("stress")
    agents = scenario.agents

    assert agents.bettors >= 1000
    assert scenario.rooms.per_hour * scenario.duration_hours >= 2000
    ticks = scenario.duration_seconds / agents.decision_interval_seconds
    assert agents.bettors * ticks * agents.bet_probability >= 200_000


def test_replay_resolves_its_csv_next_to_the_scenario_file() -> None:
    scenario = load_scenario("replay")
    model_config = scenario.assets[0].model

    assert isinstance(model_config, CsvModelConfig)
    assert model_config.path == SCENARIOS_DIR / "data" / "sol_sample.csv"
    model = build_price_model(scenario.assets[0], random.Random(0))
    assert isinstance(model, CsvReplay)
    assert model.price_at(0.0) == 150.0


def test_oracle_outages_is_flaky() -> None:
    oracle = load_scenario("oracle_outages").oracle
    assert oracle.outage_probability >= 0.1
    assert oracle.stale_probability >= 0.1
    assert len(oracle.outage_windows) >= 3


# --- Defaults and models -----------------------------------------------------------------


def test_a_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(_minimal(tmp_path))

    assert scenario.seed == 1
    assert scenario.duration_hours == 24
    assert scenario.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert scenario.assets[0].kind is AssetKind.COIN
    assert scenario.assets[0].metric is Metric.PRICE_USD
    assert scenario.assets[0].weight == 1
    assert scenario.oracle.sources == 3
    assert scenario.oracle.quorum == 2
    assert scenario.oracle.poll_seconds == 3.0
    assert scenario.agents.by_strategy == {
        "noise": 40,
        "informed": 15,
        "herder": 15,
        "contrarian": 15,
        "whale": 5,
        "late": 10,
    }
    assert scenario.agents.initial_deposit_sol == (5.0, 50.0)
    assert scenario.rooms.min_duration_minutes == 15
    assert scenario.rooms.max_duration_minutes == 1440
    assert scenario.fees.referral_level_bps == (1500, 500, 200)


def test_start_is_normalised_to_utc(tmp_path: Path) -> None:
    scenario = load_scenario(_minimal(tmp_path, top="start = 2026-03-01T02:00:00+02:00"))
    assert scenario.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert scenario.start.utcoffset() is not None


def test_build_price_model_is_deterministic_for_a_seed() -> None:
    scenario = load_scenario("default")
    sol, _, pump = scenario.assets

    first = build_price_model(sol, random.Random(5))
    again = build_price_model(sol, random.Random(5))
    token = build_price_model(pump, random.Random(5))

    assert isinstance(first, GeometricBrownianMotion)
    assert isinstance(token, JumpDiffusion)
    assert first.price_at(3600.0) == again.price_at(3600.0)
    assert build_price_model(sol, random.Random(6)).price_at(3600.0) != first.price_at(3600.0)


def test_scenario_models_are_frozen() -> None:
    scenario = load_scenario("default")
    with pytest.raises(ValueError, match="frozen"):
        scenario.seed = 2  # type: ignore[misc]


# --- Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "tables", "field", "fragment"),
    [
        ("", "[agents]\nnoise = 'many'", "agents.noise", "Input should be a valid integer"),
        ("", "[agents]\nnoise = 4.5", "agents.noise", "valid integer"),
        ("", "[agents]\nnosie = 3", "agents.nosie", "Extra inputs are not permitted"),
        ("colour = 'red'", "", "colour", "Extra inputs are not permitted"),
        ("", "[agents]\nbet_probability = 1.5", "agents.bet_probability", "less than or equal"),
        ("", "[oracle]\nstale_probability = -0.1", "oracle.stale_probability", "greater than"),
        ("", "[agents]\nnoise = -1", "agents.noise", "greater than or equal to 0"),
        ("start = 2026-01-01T00:00:00", "", "start", "timezone"),
        ("duration_hours = 0", "", "duration_hours", "greater than 0"),
        ("", "[rooms]\nmin_duration_minutes = 10", "rooms.min_duration_minutes", "15"),
        ("", "[rooms]\nmax_duration_minutes = 2000", "rooms.max_duration_minutes", "1440"),
        (
            "",
            "[rooms]\nmin_duration_minutes = 120\nmax_duration_minutes = 60",
            "rooms.max_duration_minutes",
            "min_duration_minutes",
        ),
        ("", "[oracle]\nsources = 2\nquorum = 3", "oracle.quorum", "cannot exceed"),
        (
            "",
            "[oracle]\noutage_windows = [{ start_hour = 2, end_hour = 1 }]",
            "oracle.outage_windows[0].end_hour",
            "after start_hour",
        ),
        (
            "",
            "[oracle]\noutage_windows = [{ start_hour = 1, end_hour = 2, asset = 'DOGE' }]",
            "oracle",
            "unknown asset 'DOGE'",
        ),
        (
            "",
            "[agents]\n"
            + "\n".join(f"{s} = 0" for s in ("noise", "informed", "herder"))
            + "\ncontrarian = 0\nwhale = 0\nlate = 0",
            "agents",
            "at least one bettor",
        ),
        ("", "[agents]\ninitial_deposit_sol = [50, 5]", "agents.initial_deposit_sol", "min <="),
        (
            "",
            "[agents]\nwhale_deposit_sol = 1.0000000001",
            "agents.whale_deposit_sol",
            "whole number of lamports",
        ),
        ("", "[fees]\nreferral_level_bps = [9000, 2000]", "fees.referral_level_bps", "whole fee"),
    ],
)
def test_invalid_values_name_the_file_and_the_field(
    tmp_path: Path, top: str, tables: str, field: str, fragment: str
) -> None:
    path = _minimal(tmp_path, top=top, tables=tables)

    error = _error(path)

    assert error.source == str(path)
    assert any(where == field and fragment in what for where, what in error.problems), error
    assert f"{path}: {field}: " in str(error)


def test_error_message_has_the_documented_shape(tmp_path: Path) -> None:
    path = _minimal(tmp_path, tables="[agents]\nnoise = 'x'")
    message = str(_error(path))
    assert message.startswith(f"{path}: agents.noise: Input should be a valid integer")


ASSET_CASES = [
    ('kind = "TOKEN"', "assets[0].mint", "needs a mint"),
    ('kind = "TOKEN"\nmint = "not-base58-0OIl"', "assets[0].mint", "not a base58"),
    (
        'kind = "TOKEN"\nmint = "11111111111111111111111111111111111111111111111"',
        "assets[0].mint",
        "32-byte",
    ),
    ('mint = "HRxbcC88dqddKcJmQwf4nPTCRJawNZyZbjnRTkHupump"', "assets[0].mint", "only TOKEN"),
    ('kind = "NFT"', "assets[0].kind", "'COIN' or 'TOKEN'"),
    ('metric = "VOLUME"', "assets[0].metric", "PRICE_USD"),
    ('symbol = "S O L"', "assets[0].symbol", "pattern"),
    ("weight = 0", "assets[0].weight", "greater than 0"),
]


@pytest.mark.parametrize(("lines", "field", "fragment"), ASSET_CASES)
def test_invalid_assets_name_the_asset_field(
    tmp_path: Path, lines: str, field: str, fragment: str
) -> None:
    symbol = "" if "symbol" in lines else 'symbol = "PUMP"\n'
    text = (
        f'name = "x"\n[[assets]]\n{symbol}{lines}\n'
        'model = { type = "gbm", s0 = 1.0, volatility = 1.0 }\n'
    )
    error = _error(_write(tmp_path, text))
    assert any(where == field and fragment in what for where, what in error.problems), error


@pytest.mark.parametrize(
    ("model", "field", "fragment"),
    [
        ('{ type = "gbm", s0 = -1, volatility = 1 }', "assets[0].model.s0", "greater than 0"),
        ('{ type = "gbm", s0 = 1, volatility = 0 }', "assets[0].model.volatility", "greater"),
        ('{ type = "gbm", s0 = 1 }', "assets[0].model.volatility", "Field required"),
        ('{ type = "gbm", s0 = inf, volatility = 1 }', "assets[0].model.s0", "finite"),
        (
            '{ type = "jump", s0 = 1, volatility = 1, jump_stdev = 0.1 }',
            "assets[0].model.jump_intensity",
            "Field required",
        ),
        ('{ type = "brownian", s0 = 1 }', "assets[0].model", "does not match any of the expected"),
        ("{ s0 = 1 }", "assets[0].model", "discriminator 'type'"),
        ('{ type = "csv", path = "nowhere.csv" }', "assets[0].model.path", "not found"),
    ],
)
def test_invalid_price_models_name_the_model_field(
    tmp_path: Path, model: str, field: str, fragment: str
) -> None:
    text = f'name = "x"\n[[assets]]\nsymbol = "SOL"\nmodel = {model}\n'
    error = _error(_write(tmp_path, text))
    assert any(where == field and fragment in what for where, what in error.problems), error


def test_csv_model_with_bad_data_reports_the_csv_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "p.csv").write_text("timestamp,price\n0,1\n60,-1\n", encoding="utf-8")
    text = 'name = "x"\n[[assets]]\nsymbol = "SOL"\nmodel = { type = "csv", path = "data/p.csv" }\n'

    error = _error(_write(tmp_path, text))

    ((where, what),) = error.problems
    assert where == "assets[0].model.path"
    assert f"{tmp_path / 'data' / 'p.csv'}:3: " in what


def test_assets_are_required_and_unique(tmp_path: Path) -> None:
    missing = _error(_write(tmp_path, 'name = "x"\n', "missing.toml"))
    assert ("assets", "Field required") in missing.problems

    empty = _error(_write(tmp_path, 'name = "x"\nassets = []\n', "empty.toml"))
    assert any(where == "assets" and "at least one" in what for where, what in empty.problems)

    asset = '[[assets]]\nsymbol = "SOL"\nmodel = { type = "gbm", s0 = 1.0, volatility = 1.0 }\n'
    twice = _error(_write(tmp_path, f'name = "x"\n{asset}{asset}', "twice.toml"))
    assert any(where == "assets" and "more than once" in what for where, what in twice.problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _minimal(tmp_path, top="seed = 'x'", tables="[agents]\nnoise = -1\nlate = 'y'")
    fields = [where for where, _ in _error(path).problems]
    assert fields == ["seed", "agents.noise", "agents.late"]


def test_malformed_toml_reports_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "x"\n\n[agents]\nnoise = = 3\n')

    error = _error(path)

    ((where, what),) = error.problems
    assert where == "line 4, column 9"
    assert what.startswith("invalid TOML")
    assert str(error).startswith(f"{path}: line 4, column 9: invalid TOML")


def test_missing_file_lists_the_bundled_scenarios(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    message = str(_error(path))
    assert message.startswith(f"{path}: scenario file not found")
    for name in available_scenarios():
        assert name in message


def test_unknown_bundled_name_lists_the_bundled_scenarios() -> None:
    message = str(_error("no_such_scenario"))
    assert "no bundled scenario 'no_such_scenario'" in message
    assert "default" in message
    assert "stress" in message


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    assert "UTF-8" in str(_error(path))


def test_scenario_can_be_built_in_code() -> None:
    scenario = Scenario.model_validate(
        {
            "name": "inline",
            "assets": [{"symbol": "SOL", "model": {"type": "gbm", "s0": 1.0, "volatility": 1.0}}],
            "agents": {
                "noise": 1,
                "informed": 0,
                "herder": 0,
                "contrarian": 0,
                "whale": 0,
                "late": 0,
            },
        }
    )
    assert scenario.agents.bettors == 1
    assert scenario.total_agents == 1 + scenario.agents.hosts
    with pytest.raises(KeyError):
        scenario.asset_config("BTC")

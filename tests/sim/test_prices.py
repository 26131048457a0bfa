"""Price models: statistics of the paths, replay, determinism and touch probabilities."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from rooms_sim.prices import (
    SECONDS_PER_YEAR,
    CsvReplay,
    GeometricBrownianMotion,
    JumpDiffusion,
    PriceDataError,
    PriceModel,
    hit_probability,
)

SEED = 20260101
DAY = 86_400.0
SAMPLE_CSV = Path(__file__).parents[2] / "rooms_sim" / "scenarios" / "data" / "sol_sample.csv"


def _log_returns(model: PriceModel, steps: int, step: float) -> list[float]:
    prices = [model.price_at(k * step) for k in range(steps + 1)]
    return [math.log(b / a) for a, b in pairwise(prices)]


def _moments(xs: list[float]) -> tuple[float, float, float]:
    """Mean, sample variance and excess kurtosis."""
    n = len(xs)
    mean = sum(xs) / n
    centred = [x - mean for x in xs]
    m2 = sum(c * c for c in centred) / n
    m4 = sum(c**4 for c in centred) / n
    return mean, m2 * n / (n - 1), m4 / (m2 * m2) - 3.0


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


# --- GBM ---------------------------------------------------------------------------------


def test_gbm_log_returns_have_the_theoretical_mean_and_variance_at_poll_resolution() -> None:
    mu, sigma, step, n = 0.4, 0.9, 3.0, 100_000
    gbm = GeometricBrownianMotion(150.0, mu, sigma, random.Random(SEED), step=step)

    mean, variance, kurtosis = _moments(_log_returns(gbm, n, step))

    dt = step / SECONDS_PER_YEAR
    expected_mean, expected_var = (mu - sigma**2 / 2) * dt, sigma**2 * dt
    assert abs(mean - expected_mean) < 4 * math.sqrt(expected_var / n)
    assert abs(variance - expected_var) < 4 * expected_var * math.sqrt(2 / (n - 1))
    assert abs(kurtosis) < 4 * math.sqrt(24 / n)  # Gaussian returns


def test_gbm_drift_shows_in_daily_log_returns() -> None:
    mu, sigma, n = 2.0, 0.5, 20_000
    gbm = GeometricBrownianMotion(100.0, mu, sigma, random.Random(SEED), step=DAY)

    mean, variance, _ = _moments(_log_returns(gbm, n, DAY))

    dt = DAY / SECONDS_PER_YEAR
    expected_mean, expected_var = (mu - sigma**2 / 2) * dt, sigma**2 * dt
    assert expected_mean > 6 * math.sqrt(expected_var / n)  # the test can see the drift
    assert abs(mean - expected_mean) < 4 * math.sqrt(expected_var / n)
    assert abs(variance - expected_var) < 4 * expected_var * math.sqrt(2 / (n - 1))


def test_gbm_price_is_a_step_function_of_time_on_the_poll_grid() -> None:
    gbm = GeometricBrownianMotion(150.0, 0.0, 0.9, random.Random(SEED))

    assert gbm.price_at(0.0) == 150.0
    assert gbm.price_at(-10.0) == 150.0
    assert gbm.price_at(1.0) == 150.0
    assert gbm.price_at(3.0) != 150.0
    assert gbm.price_at(4.5) == gbm.price_at(3.0)
    assert gbm.price_at(0.1 * 30) == gbm.price_at(3.0)  # 3.0000000000000004 is still step 1
    assert gbm.price_at(5.999) == gbm.price_at(3.0)
    assert gbm.price_at(6.0) != gbm.price_at(3.0)


def test_gbm_generates_a_day_lazily_with_bounded_lookahead() -> None:
    gbm = GeometricBrownianMotion(150.0, 0.0, 0.9, random.Random(SEED))
    assert gbm.generated_steps < 100

    for k in range(28_801):
        gbm.price_at(3.0 * k)

    assert 28_801 <= gbm.generated_steps <= 28_801 + 8192


def test_models_reject_invalid_parameters() -> None:
    rng = random.Random(SEED)
    with pytest.raises(ValueError, match="s0"):
        GeometricBrownianMotion(0.0, 0.0, 0.5, rng)
    with pytest.raises(ValueError, match="volatility"):
        GeometricBrownianMotion(1.0, 0.0, -0.5, rng)
    with pytest.raises(ValueError, match="step"):
        GeometricBrownianMotion(1.0, 0.0, 0.5, rng, step=0.0)
    with pytest.raises(ValueError, match="jump_intensity"):
        JumpDiffusion(1.0, 0.0, 0.5, -1.0, 0.0, 0.1, rng)
    with pytest.raises(ValueError, match="jump_stdev"):
        JumpDiffusion(1.0, 0.0, 0.5, 1.0, 0.0, -0.1, rng)


# --- Jump diffusion ----------------------------------------------------------------------


def _pump_token(seed: int, step: float = 3.0) -> JumpDiffusion:
    return JumpDiffusion(80_000.0, 0.0, 3.0, 2000.0, 0.0, 0.15, random.Random(seed), step=step)


def test_jump_count_is_near_intensity_times_time() -> None:
    horizon = 30 * DAY
    model = JumpDiffusion(100.0, 0.0, 0.5, 2000.0, 0.0, 0.15, random.Random(SEED), step=60.0)

    jumps = model.jump_times(horizon)

    expected = 2000.0 * horizon / SECONDS_PER_YEAR  # ~164
    assert abs(len(jumps) - expected) < 4 * math.sqrt(expected)
    assert all(0.0 < t <= horizon for t in jumps)
    assert jumps == sorted(jumps)


def test_jump_diffusion_returns_are_fat_tailed_and_gbm_returns_are_not() -> None:
    step, n = 60.0, 43_200  # 30 days
    jump = JumpDiffusion(100.0, 0.0, 0.5, 2000.0, 0.0, 0.15, random.Random(SEED), step=step)
    gbm = GeometricBrownianMotion(100.0, 0.0, 0.5, random.Random(SEED), step=step)

    _, jump_var, jump_kurtosis = _moments(_log_returns(jump, n, step))
    _, _, gbm_kurtosis = _moments(_log_returns(gbm, n, step))

    assert jump_kurtosis > 50
    assert abs(gbm_kurtosis) < 4 * math.sqrt(24 / n)
    # Variance per step: diffusion plus lambda dt (m^2 + s^2), up to the jump-count noise.
    expected_var = (0.5**2 + 2000.0 * 0.15**2) * step / SECONDS_PER_YEAR
    assert expected_var / 2 < jump_var < expected_var * 2


def test_jump_diffusion_without_jumps_has_no_jumps() -> None:
    model = JumpDiffusion(100.0, 0.0, 0.5, 0.0, 0.0, 0.15, random.Random(SEED))
    assert model.jump_times(DAY) == []


def test_effective_volatility_combines_diffusion_and_jumps() -> None:
    model = JumpDiffusion(100.0, 0.0, 3.0, 2000.0, 0.01, 0.15, random.Random(SEED))
    assert model.effective_volatility == pytest.approx(math.sqrt(9.0 + 2000.0 * (1e-4 + 0.0225)))


# --- Determinism -------------------------------------------------------------------------


def test_same_seed_gives_the_same_path_whatever_the_query_order() -> None:
    times = [3.0 * k for k in range(0, 40_000, 7)]
    forward = _pump_token(SEED)
    backward = _pump_token(SEED)

    expected = [forward.price_at(t) for t in times]
    actual = [backward.price_at(t) for t in reversed(times)][::-1]

    assert actual == expected
    assert forward.jump_times(times[-1]) == backward.jump_times(times[-1])


def test_path_is_independent_of_later_draws_from_the_shared_rng() -> None:
    shared = random.Random(SEED)
    model = GeometricBrownianMotion(150.0, 0.0, 0.9, shared)
    first = model.price_at(600.0)
    shared.random()  # someone else (an agent) draws from the same generator
    lazily = model.price_at(DAY)

    alone = GeometricBrownianMotion(150.0, 0.0, 0.9, random.Random(SEED))

    assert (alone.price_at(600.0), alone.price_at(DAY)) == (first, lazily)


def test_different_seeds_give_different_paths() -> None:
    a = GeometricBrownianMotion(150.0, 0.0, 0.9, random.Random(1))
    b = GeometricBrownianMotion(150.0, 0.0, 0.9, random.Random(2))
    assert [a.price_at(3.0 * k) for k in range(1, 50)] != [
        b.price_at(3.0 * k) for k in range(1, 50)
    ]
    assert _pump_token(1).price_at(DAY) != _pump_token(2).price_at(DAY)


# --- CSV replay --------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_replay_returns_the_last_price_at_or_before_t() -> None:
    replay = CsvReplay([(0.0, 10.0), (60.0, 11.0), (120.0, 12.0)])

    assert replay.price_at(-5.0) == 10.0
    assert replay.price_at(0.0) == 10.0
    assert replay.price_at(59.9) == 10.0
    assert replay.price_at(60.0) == 11.0
    assert replay.price_at(119.0) == 11.0
    assert replay.price_at(120.0) == 12.0
    assert replay.price_at(10_000.0) == 12.0
    assert replay.end == 120.0


def test_csv_replay_before_the_first_row_returns_the_first_price() -> None:
    replay = CsvReplay([(30.0, 5.0), (90.0, 6.0)])
    assert replay.price_at(0.0) == 5.0
    assert replay.price_at(89.0) == 5.0


def test_csv_file_with_numeric_seconds(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,price\n0,100.5\n\n300.5,101\n600,99.25\n")

    replay = CsvReplay.from_file(path)

    assert replay.points == [(0.0, 100.5), (300.5, 101.0), (600.0, 99.25)]
    assert replay.price_at(300.0) == 100.5


def test_csv_file_with_iso_timestamps_counts_seconds_from_the_first_row(tmp_path: Path) -> None:
    text = (
        "timestamp,price\n"
        "2026-01-01T12:00:00Z,150\n"
        "2026-01-01T12:05:00+00:00,151\n"
        "2026-01-01T14:10:00+02:00,152\n"  # 12:10 UTC
    )
    replay = CsvReplay.from_file(_write(tmp_path, text))

    assert replay.points == [(0.0, 150.0), (300.0, 151.0), (600.0, 152.0)]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("timestamp,price\n0,1\n60,2\n30,3\n", 4, "strictly increasing"),
        ("timestamp,price\n0,1\n60,1\n60,2\n", 4, "strictly increasing"),
        ("timestamp,price\n0,1\n60,-2\n", 3, "positive"),
        ("timestamp,price\n0,1\n60,0\n", 3, "positive"),
        ("timestamp,price\n0,1\n60,abc\n", 3, "not a number"),
        ("timestamp,price\n0,1\nyesterday,2\n", 3, "neither seconds nor an ISO-8601"),
        ("timestamp,price\n0,1\n2026-01-01T00:00:00Z,2\n", 3, "mixes numeric and ISO-8601"),
        ("time,value\n0,1\n", 1, "expected header 'timestamp,price'"),
        ("timestamp,price\n0,1\n60,2,3\n", 3, "expected 2 columns"),
        ("timestamp,price\n0,1\n60,nan\n", 3, "positive and finite"),
    ],
)
def test_csv_errors_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(PriceDataError) as caught:
        CsvReplay.from_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ")
    assert fragment in message


@pytest.mark.parametrize(
    ("text", "fragment"), [("", "empty file"), ("timestamp,price\n", "no price")]
)
def test_csv_without_rows_is_rejected(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(PriceDataError, match=fragment):
        CsvReplay.from_file(_write(tmp_path, text))


def test_missing_csv_file_is_a_price_data_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PriceDataError, match=r"missing\.csv"):
        CsvReplay.from_file(tmp_path / "missing.csv")


def test_csv_points_are_validated_too() -> None:
    with pytest.raises(PriceDataError, match="point 1"):
        CsvReplay([(0.0, 1.0), (0.0, 2.0)])
    with pytest.raises(PriceDataError, match="no price points"):
        CsvReplay([])


def test_bundled_sample_is_a_small_day_of_five_minute_prices() -> None:
    assert SAMPLE_CSV.stat().st_size < 100_000
    replay = CsvReplay.from_file(SAMPLE_CSV)

    assert len(replay.points) == 289
    assert replay.end == DAY
    assert replay.monitor_step == 300.0
    assert 0.3 < replay.volatility < 3.0  # realised volatility of a vol-0.9 GBM sample


# --- Touch probability -------------------------------------------------------------------


def _models() -> list[PriceModel]:
    return [
        GeometricBrownianMotion(100.0, 0.1, 0.9, random.Random(SEED)),
        JumpDiffusion(100.0, 0.0, 3.0, 2000.0, 0.0, 0.15, random.Random(SEED)),
        CsvReplay.from_file(SAMPLE_CSV),
    ]


@pytest.mark.parametrize("model", _models(), ids=["gbm", "jump", "csv"])
def test_touch_probability_is_one_when_the_target_is_already_reached(model: PriceModel) -> None:
    assert model.touch_probability(100.0, 100.0, True, 3600.0) == 1.0
    assert model.touch_probability(100.0, 100.0, False, 3600.0) == 1.0
    assert model.touch_probability(100.0, 90.0, True, 0.0) == 1.0
    assert model.touch_probability(100.0, 110.0, False, 0.0) == 1.0
    assert model.touch_probability(100.0, 100.0001, True, DAY) > 0.95
    assert model.touch_probability(100.0, 99.9999, False, DAY) > 0.95


@pytest.mark.parametrize("model", _models(), ids=["gbm", "jump", "csv"])
def test_touch_probability_grows_with_horizon_and_shrinks_with_distance(model: PriceModel) -> None:
    horizons = [0.0, 60.0, 900.0, 3600.0, 6 * 3600.0, DAY]
    for upward, target in [(True, 103.0), (False, 97.0), (True, 100.01), (False, 99.99)]:
        by_horizon = [model.touch_probability(100.0, target, upward, h) for h in horizons]
        assert by_horizon[0] == 0.0
        assert all(0.0 <= p <= 1.0 for p in by_horizon)
        assert by_horizon == sorted(by_horizon)
        assert by_horizon[-1] > by_horizon[1]

    by_distance = [model.touch_probability(100.0, t, True, 3600.0) for t in (101, 102, 105, 120)]
    assert by_distance == sorted(by_distance, reverse=True)


def test_driftless_continuous_hit_probability_is_the_reflection_principle() -> None:
    sigma, horizon = 0.8, 7200.0
    years = horizon / SECONDS_PER_YEAR
    for target in (100.5, 101.0, 103.0):
        b = math.log(target / 100.0)
        expected = 2.0 * (1.0 - _normal_cdf(b / (sigma * math.sqrt(years))))
        actual = hit_probability(100.0, target, True, horizon, log_drift=0.0, volatility=sigma)
        assert actual == pytest.approx(expected, abs=1e-12)


def test_hit_probability_stays_a_probability_in_extreme_regimes() -> None:
    cases = [
        dict(log_drift=500.0, volatility=1e-4),
        dict(log_drift=-500.0, volatility=1e-4),
        dict(log_drift=50.0, volatility=0.01),
        dict(log_drift=0.0, volatility=0.0),
        dict(log_drift=1e6, volatility=0.0),
    ]
    for kwargs in cases:
        for upward, target in [(True, 150.0), (False, 50.0)]:
            p = hit_probability(100.0, target, upward, 3 * DAY, **kwargs)
            assert 0.0 <= p <= 1.0
    assert hit_probability(100.0, 150.0, True, DAY, log_drift=1e6, volatility=0.0) == 1.0
    assert hit_probability(100.0, 150.0, True, DAY, log_drift=0.0, volatility=0.0) == 0.0


def _monte_carlo_touch(
    make: Callable[[random.Random], PriceModel],
    target: float,
    upward: bool,
    horizon: float,
    step: float,
    paths: int,
) -> float:
    steps = round(horizon / step)
    hits = 0
    for i in range(paths):
        model = make(random.Random(i))
        for k in range(1, steps + 1):
            price = model.price_at(k * step)
            if (price >= target) if upward else (price <= target):
                hits += 1
                break
    return hits / paths


@pytest.mark.parametrize(("target", "upward"), [(101.0, True), (98.0, False)])
def test_gbm_touch_probability_agrees_with_monte_carlo(target: float, upward: bool) -> None:
    step, horizon, paths = 60.0, 7200.0, 3000

    def make(rng: random.Random) -> PriceModel:
        return GeometricBrownianMotion(100.0, 0.3, 0.8, rng, step=step)

    simulated = _monte_carlo_touch(make, target, upward, horizon, step, paths)
    predicted = make(random.Random(0)).touch_probability(100.0, target, upward, horizon)

    standard_error = math.sqrt(max(predicted * (1 - predicted), 0.01) / paths)
    assert abs(simulated - predicted) < 4 * standard_error + 0.005


@pytest.mark.parametrize(("target", "upward"), [(105.0, True), (101.0, True), (95.0, False)])
def test_jump_touch_probability_agrees_with_monte_carlo(target: float, upward: bool) -> None:
    step, horizon, paths = 60.0, 3600.0, 3000

    def make(rng: random.Random) -> PriceModel:
        return JumpDiffusion(100.0, 0.0, 3.0, 2000.0, 0.0, 0.15, rng, step=step)

    simulated = _monte_carlo_touch(make, target, upward, horizon, step, paths)
    predicted = make(random.Random(0)).touch_probability(100.0, target, upward, horizon)

    # An approximation (Poisson mixture of Brownian first passages), not an exact formula.
    standard_error = math.sqrt(max(predicted * (1 - predicted), 0.01) / paths)
    assert abs(simulated - predicted) < 4 * standard_error + 0.04

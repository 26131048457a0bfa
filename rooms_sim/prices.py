"""Price models of the simulator: the "true" price of an asset as a function of simulated time.

Every model answers ``price_at(t)`` (``t`` in simulated seconds since the scenario start) and
``touch_probability(...)`` (the chance the price reaches a target within a horizon, which
informed agents use as their belief).

Stochastic paths are generated lazily, in chunks, on a fixed grid of ``step`` seconds (the
oracle poll interval) and cached in a compact ``array('d')``; ``price_at`` is a step function
that returns the value of the last grid point at or before ``t``. A model draws one seed from
the ``random.Random`` it is given at construction and then uses a private generator, so its
path depends only on that seed: not on how, when or in which order it is queried, nor on
whoever else draws from the same generator afterwards.

Paths are plain floats (they are not money); convert to ``Decimal`` at the quote boundary.
"""

from __future__ import annotations

import csv
import io
import math
import random
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "DEFAULT_STEP",
    "SECONDS_PER_YEAR",
    "CsvReplay",
    "GeometricBrownianMotion",
    "JumpDiffusion",
    "PriceDataError",
    "PriceModel",
    "hit_probability",
]

SECONDS_PER_YEAR = 365 * 86_400
"""Seconds in the year used to annualise drift, volatility and jump intensity."""

DEFAULT_STEP = 3.0
"""Default path resolution in seconds: the oracle poll interval."""

# Broadie-Glasserman-Kou continuity correction: a barrier monitored every dt behaves like a
# continuously monitored barrier shifted away by exp(beta * sigma * sqrt(dt)).
_BGK_BETA = 0.5825971579390106
_MIN_CHUNK = 64
_MAX_CHUNK = 8192
_EPS_STEPS = 1e-9  # so that t = k * step computed in floating point maps to grid point k
_POISSON_TERMS_LIMIT = 50.0  # beyond this many expected jumps, the effective-volatility GBM


class PriceDataError(ValueError):
    """Price data (a replay CSV or its points) is malformed; the message names where."""


@runtime_checkable
class PriceModel(Protocol):
    """What the simulator needs from a price model."""

    def price_at(self, t: float) -> float:
        """The true price at ``t`` simulated seconds since the start (``t < 0``: the start)."""
        ...

    def touch_probability(
        self, current: float, target: float, upward: bool, horizon_seconds: float
    ) -> float:
        """Probability that the price, now ``current``, reaches ``target`` within the horizon.

        ``upward`` asks for ``price >= target`` (a ``>=`` room), otherwise ``price <= target``.
        A target already satisfied by ``current`` has probability 1.
        """
        ...


# --------------------------------------------------------------------------------------------
# First-passage probabilities


def _log_norm_cdf(z: float) -> float:
    """log Phi(z), accurate in the far left tail where Phi underflows."""
    if z > -30.0:
        return math.log(0.5 * math.erfc(-z / math.sqrt(2.0)))
    z2 = z * z
    return (
        -0.5 * z2
        - math.log(-z)
        - 0.5 * math.log(2.0 * math.pi)
        + math.log1p(-1.0 / z2 + 3.0 / (z2 * z2))
    )


def _first_passage(barrier: float, drift: float, variance: float) -> float:
    """P(max_{s<=T} X_s >= barrier) for Brownian motion X with X_0 = 0, barrier > 0.

    ``drift`` is the mean of X_T and ``variance`` the variance of X_T (both over the horizon).
    """
    if variance <= 0.0:
        return 1.0 if drift >= barrier else 0.0
    sd = math.sqrt(variance)
    direct = math.exp(_log_norm_cdf((drift - barrier) / sd))
    # Reflected term exp(2 nu b / sigma^2) * Phi((-b - nu T) / (sigma sqrt T)), in log space.
    log_reflected = 2.0 * drift * barrier / variance + _log_norm_cdf((-barrier - drift) / sd)
    reflected = math.exp(min(log_reflected, 0.0))
    return min(1.0, max(0.0, direct + reflected))


def _oriented_barrier(current: float, target: float, upward: bool) -> float | None:
    """Log distance to the target in the direction of travel, or None if already reached."""
    if not (current > 0.0 and math.isfinite(current)):
        raise ValueError(f"current price must be positive and finite, got {current!r}")
    if not (target > 0.0 and math.isfinite(target)):
        raise ValueError(f"target must be positive and finite, got {target!r}")
    if (upward and current >= target) or (not upward and current <= target):
        return None
    distance = math.log(target / current)
    return distance if upward else -distance


def hit_probability(
    current: float,
    target: float,
    upward: bool,
    horizon_seconds: float,
    *,
    log_drift: float,
    volatility: float,
    monitor_step: float = 0.0,
) -> float:
    """Probability that a geometric Brownian motion touches ``target`` within the horizon.

    The log-price is Brownian motion with annualised drift ``log_drift`` (for a GBM with
    drift mu and volatility sigma that is ``mu - sigma**2 / 2``) and annualised
    ``volatility``; the answer is the first-passage (barrier-hit) probability
    ``Phi((nu T - b) / (sigma sqrt T)) + exp(2 nu b / sigma^2) Phi((-b - nu T) / (sigma sqrt T))``
    with ``b`` the log distance to the target. When ``monitor_step > 0`` the barrier is watched
    only every ``monitor_step`` seconds (as the oracle does) and the barrier is shifted by the
    Broadie-Glasserman-Kou continuity correction.
    """
    barrier = _oriented_barrier(current, target, upward)
    if barrier is None:
        return 1.0
    if horizon_seconds <= 0.0:
        return 0.0
    if volatility < 0.0:
        raise ValueError(f"volatility must be >= 0, got {volatility!r}")
    years = horizon_seconds / SECONDS_PER_YEAR
    drift = log_drift if upward else -log_drift
    if monitor_step > 0.0:
        barrier += _BGK_BETA * volatility * math.sqrt(monitor_step / SECONDS_PER_YEAR)
    return _first_passage(barrier, drift * years, volatility * volatility * years)


# --------------------------------------------------------------------------------------------
# Simulated paths


class _GridPath:
    """A lazily extended price path on a grid of ``step`` seconds; subclasses fill it."""

    def __init__(self, s0: float, rng: random.Random, step: float) -> None:
        if not (s0 > 0.0 and math.isfinite(s0)):
            raise ValueError(f"s0 must be positive and finite, got {s0!r}")
        if not (step > 0.0 and math.isfinite(step)):
            raise ValueError(f"step must be positive and finite, got {step!r}")
        self.s0 = float(s0)
        self.step = float(step)
        self._rng = random.Random(rng.getrandbits(64))
        self._log_price = math.log(self.s0)
        self._prices = array("d", [self.s0])

    @property
    def generated_steps(self) -> int:
        """How many grid points have been generated so far (for memory accounting)."""
        return len(self._prices)

    def price_at(self, t: float) -> float:
        """The price at the last grid point at or before ``t`` seconds (``t < 0``: ``s0``)."""
        if t <= 0.0:
            if math.isnan(t):
                raise ValueError("t is NaN")
            return self.s0
        index = int(t / self.step + _EPS_STEPS)
        prices = self._prices
        if index >= len(prices):
            self._extend_to(index)
        return prices[index]

    def _extend_to(self, index: int) -> None:
        have = len(self._prices)
        grow = min(max(have, _MIN_CHUNK), _MAX_CHUNK)
        self._generate(max(index + 1, have + grow) - have)

    def _generate(self, count: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class GeometricBrownianMotion(_GridPath):
    """GBM with annualised ``drift`` (mu) and ``volatility`` (sigma).

    Each step of ``step`` seconds multiplies the price by ``exp(r)`` with
    ``r ~ N((mu - sigma^2/2) dt, sigma^2 dt)``, ``dt = step / SECONDS_PER_YEAR``.
    """

    def __init__(
        self,
        s0: float,
        drift: float,
        volatility: float,
        rng: random.Random,
        step: float = DEFAULT_STEP,
    ) -> None:
        if not (volatility >= 0.0 and math.isfinite(volatility)):
            raise ValueError(f"volatility must be >= 0 and finite, got {volatility!r}")
        if not math.isfinite(drift):
            raise ValueError(f"drift must be finite, got {drift!r}")
        super().__init__(s0, rng, step)
        self.drift = float(drift)
        self.volatility = float(volatility)
        dt = self.step / SECONDS_PER_YEAR
        self._step_mean = self.log_drift * dt
        self._step_sd = self.volatility * math.sqrt(dt)

    @property
    def log_drift(self) -> float:
        """Annualised drift of the log-price, ``mu - sigma^2 / 2``."""
        return self.drift - 0.5 * self.volatility * self.volatility

    def touch_probability(
        self, current: float, target: float, upward: bool, horizon_seconds: float
    ) -> float:
        """First-passage probability of this GBM, monitored every ``step`` seconds."""
        return hit_probability(
            current,
            target,
            upward,
            horizon_seconds,
            log_drift=self.log_drift,
            volatility=self.volatility,
            monitor_step=self.step,
        )

    def _generate(self, count: int) -> None:
        gauss = self._rng.gauss
        exp = math.exp
        mean, sd = self._step_mean, self._step_sd
        x = self._log_price
        append = self._prices.append
        for _ in range(count):
            x += gauss(mean, sd)
            append(exp(x))
        self._log_price = x


class JumpDiffusion(_GridPath):
    """Merton jump diffusion: GBM plus compound-Poisson jumps in the log-price.

    ``jump_intensity`` is the expected number of jumps per year; each jump multiplies the
    price by ``exp(Y)`` with ``Y ~ N(jump_mean, jump_stdev)``. The diffusion drift is
    compensated (``mu - lambda k`` with ``k = E[exp(Y)] - 1``) so that ``drift`` remains the
    expected rate of return, as in Merton (1976). Jumps arrive at exact (continuous)
    exponential inter-arrival times and are applied at the first grid point at or after them.
    """

    def __init__(
        self,
        s0: float,
        drift: float,
        volatility: float,
        jump_intensity: float,
        jump_mean: float,
        jump_stdev: float,
        rng: random.Random,
        step: float = DEFAULT_STEP,
    ) -> None:
        if not (volatility >= 0.0 and math.isfinite(volatility)):
            raise ValueError(f"volatility must be >= 0 and finite, got {volatility!r}")
        if not (jump_intensity >= 0.0 and math.isfinite(jump_intensity)):
            raise ValueError(f"jump_intensity must be >= 0 and finite, got {jump_intensity!r}")
        if not (jump_stdev >= 0.0 and math.isfinite(jump_stdev)):
            raise ValueError(f"jump_stdev must be >= 0 and finite, got {jump_stdev!r}")
        if not (math.isfinite(drift) and math.isfinite(jump_mean)):
            raise ValueError("drift and jump_mean must be finite")
        super().__init__(s0, rng, step)
        self.drift = float(drift)
        self.volatility = float(volatility)
        self.jump_intensity = float(jump_intensity)
        self.jump_mean = float(jump_mean)
        self.jump_stdev = float(jump_stdev)
        dt = self.step / SECONDS_PER_YEAR
        self._step_mean = self.diffusion_log_drift * dt
        self._step_sd = self.volatility * math.sqrt(dt)
        self._rate_per_second = self.jump_intensity / SECONDS_PER_YEAR
        self._jump_times: list[float] = []
        self._next_jump = self._draw_wait(0.0)

    @property
    def compensator(self) -> float:
        """``k = E[exp(Y)] - 1``, the mean relative jump size."""
        return math.expm1(self.jump_mean + 0.5 * self.jump_stdev * self.jump_stdev)

    @property
    def diffusion_log_drift(self) -> float:
        """Annualised log drift between jumps: ``mu - sigma^2/2 - lambda k``."""
        return (
            self.drift
            - 0.5 * self.volatility * self.volatility
            - self.jump_intensity * self.compensator
        )

    @property
    def effective_volatility(self) -> float:
        """``sqrt(sigma^2 + lambda (m^2 + s^2))``: the annualised volatility, jumps included."""
        return math.sqrt(
            self.volatility**2 + self.jump_intensity * (self.jump_mean**2 + self.jump_stdev**2)
        )

    def jump_times(self, until: float) -> list[float]:
        """Times (seconds) of the jumps in ``(0, until]``, generating the path as needed."""
        self.price_at(until)
        return self._jump_times[: bisect_right(self._jump_times, until)]

    def touch_probability(
        self, current: float, target: float, upward: bool, horizon_seconds: float
    ) -> float:
        """Barrier-hit probability, mixing over the number of jumps in the horizon.

        Given ``n`` jumps, the log-price over the horizon is approximated by Brownian motion
        with the same mean and variance (diffusion plus ``n`` jumps), and the first-passage
        probabilities are averaged with Poisson(lambda T) weights. Discrete crossings are
        corrected as in Broadie-Glasserman-Kou: the barrier is shifted by ``0.5826`` times the
        typical increment that crosses it, a poll step of the diffusion or a jump, in
        proportion to how often each one alone would reach the barrier; a branch is never
        less likely to touch than the diffusion alone. Against Monte Carlo this stays within a
        few percentage points for pump.fun-like parameters, where a single effective
        volatility ``sqrt(sigma^2 + lambda (m^2 + s^2))`` overstates short-horizon touches
        several-fold; that effective-volatility GBM is used only when more than 50 jumps are
        expected, where the jumps are nearly Gaussian in aggregate.
        """
        barrier = _oriented_barrier(current, target, upward)
        if barrier is None:
            return 1.0
        if horizon_seconds <= 0.0:
            return 0.0
        years = horizon_seconds / SECONDS_PER_YEAR
        expected_jumps = self.jump_intensity * years
        if expected_jumps > _POISSON_TERMS_LIMIT:
            return hit_probability(
                current,
                target,
                upward,
                horizon_seconds,
                log_drift=self.diffusion_log_drift + self.jump_intensity * self.jump_mean,
                volatility=self.effective_volatility,
                monitor_step=self.step,
            )
        sign = 1.0 if upward else -1.0
        diffusion_mean = sign * self.diffusion_log_drift * years
        diffusion_var = self.volatility**2 * years
        poll_shift = _BGK_BETA * self.volatility * math.sqrt(self.step / SECONDS_PER_YEAR)
        jump_shift = _BGK_BETA * self.jump_stdev
        diffusion_only = _first_passage(barrier + poll_shift, diffusion_mean, diffusion_var)
        weight = math.exp(-expected_jumps)
        total = weight * diffusion_only
        covered = weight
        p = diffusion_only
        n = 0
        while 1.0 - covered > 1e-12 and n < 10 * _POISSON_TERMS_LIMIT:
            n += 1
            weight *= expected_jumps / n
            mean = diffusion_mean + sign * n * self.jump_mean
            variance = diffusion_var + n * self.jump_stdev**2
            continuous = _first_passage(barrier + poll_shift, mean, variance)
            by_diffusion = min(1.0, diffusion_only / continuous) if continuous > 0.0 else 0.0
            shift = poll_shift * by_diffusion + jump_shift * (1.0 - by_diffusion)
            p = max(diffusion_only, _first_passage(barrier + shift, mean, variance))
            total += weight * p
            covered += weight
        total += max(0.0, 1.0 - covered) * p  # the negligible tail, at the last branch's value
        return min(1.0, max(0.0, total))

    def _draw_wait(self, now: float) -> float:
        if self._rate_per_second <= 0.0:
            return math.inf
        return now + self._rng.expovariate(self._rate_per_second)

    def _generate(self, count: int) -> None:
        rng = self._rng
        gauss = rng.gauss
        exp = math.exp
        mean, sd, step = self._step_mean, self._step_sd, self.step
        jump_mean, jump_stdev = self.jump_mean, self.jump_stdev
        x = self._log_price
        prices = self._prices
        append = prices.append
        next_jump = self._next_jump
        first = len(prices)
        for index in range(first, first + count):
            x += gauss(mean, sd)
            grid_time = index * step
            while next_jump <= grid_time:
                x += gauss(jump_mean, jump_stdev)
                self._jump_times.append(next_jump)
                next_jump = self._draw_wait(next_jump)
            append(exp(x))
        self._log_price = x
        self._next_jump = next_jump


# --------------------------------------------------------------------------------------------
# Replay of recorded prices


class CsvReplay:
    """Replays recorded ``(seconds, price)`` points as a step function.

    ``price_at(t)`` is the price of the last point at or before ``t``; before the first
    point it is the first price. ``touch_probability`` treats the data as a driftless GBM
    with the historical (realised) volatility of the whole series, monitored at the median
    spacing of the points.
    """

    def __init__(self, points: Sequence[tuple[float, float]], *, source: str = "<points>") -> None:
        labels = [f"{source}: point {i}" for i in range(len(points))]
        times, prices = _validate_points(points, labels, source)
        self.source = source
        self._times = times
        self._prices = prices
        self.volatility = _realised_volatility(times, prices)
        spacings = sorted(b - a for a, b in pairwise(times))
        self.monitor_step = spacings[len(spacings) // 2] if spacings else 0.0

    @classmethod
    def from_file(cls, path: str | Path) -> CsvReplay:
        """Load a CSV with header ``timestamp,price``.

        Timestamps are either seconds from the start (numbers) or ISO-8601 date-times
        (converted to seconds since the first row; naive ones are taken as UTC), all rows in
        the same form, strictly increasing. Prices must be positive. Problems raise
        :class:`PriceDataError` naming the file and line.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PriceDataError(f"{path}: cannot read price data: {exc}") from exc
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        points: list[tuple[float, float]] = []
        labels: list[str] = []
        origin: datetime | None = None
        iso: bool | None = None
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            where = f"{path}:{line}"
            if header is None:
                header = [cell.strip().lower() for cell in row]
                if header != ["timestamp", "price"]:
                    raise PriceDataError(
                        f"{where}: expected header 'timestamp,price', got {','.join(row)!r}"
                    )
                continue
            if len(row) != 2:
                raise PriceDataError(f"{where}: expected 2 columns, got {len(row)}")
            raw_time, raw_price = row[0].strip(), row[1].strip()
            seconds, row_iso, stamp = _parse_timestamp(raw_time, where)
            if iso is None:
                iso = row_iso
            elif iso != row_iso:
                raise PriceDataError(
                    f"{where}: timestamp {raw_time!r} mixes numeric and ISO-8601 forms"
                )
            if stamp is not None:
                if origin is None:
                    origin = stamp
                seconds = (stamp - origin).total_seconds()
            try:
                price = float(raw_price)
            except ValueError:
                raise PriceDataError(f"{where}: price {raw_price!r} is not a number") from None
            points.append((seconds, price))
            labels.append(where)
        if header is None:
            raise PriceDataError(f"{path}: empty file, expected header 'timestamp,price'")
        if not points:
            raise PriceDataError(f"{path}: no price rows after the header")
        _validate_points(points, labels, str(path))  # to report errors by line
        return cls(points, source=str(path))

    @property
    def points(self) -> list[tuple[float, float]]:
        """The replayed ``(seconds, price)`` points."""
        return list(zip(self._times, self._prices, strict=True))

    @property
    def end(self) -> float:
        """Time of the last point, in seconds."""
        return self._times[-1]

    def price_at(self, t: float) -> float:
        """The price of the last point at or before ``t`` (before the first: the first)."""
        if math.isnan(t):
            raise ValueError("t is NaN")
        index = bisect_right(self._times, t) - 1
        return self._prices[max(index, 0)]

    def touch_probability(
        self, current: float, target: float, upward: bool, horizon_seconds: float
    ) -> float:
        """Driftless-GBM barrier-hit probability with the series' realised volatility."""
        return hit_probability(
            current,
            target,
            upward,
            horizon_seconds,
            log_drift=0.0,
            volatility=self.volatility,
            monitor_step=self.monitor_step,
        )


def _parse_timestamp(raw: str, where: str) -> tuple[float, bool, datetime | None]:
    """(seconds, is_iso, datetime-or-None) for one timestamp cell."""
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise PriceDataError(f"{where}: timestamp {raw!r} is not finite")
        return seconds, False, None
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise PriceDataError(
            f"{where}: timestamp {raw!r} is neither seconds nor an ISO-8601 date-time"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return 0.0, True, stamp


def _validate_points(
    points: Sequence[tuple[float, float]], labels: Sequence[str], source: str
) -> tuple[list[float], list[float]]:
    if not points:
        raise PriceDataError(f"{source}: no price points")
    times: list[float] = []
    prices: list[float] = []
    for (t, price), where in zip(points, labels, strict=True):
        t, price = float(t), float(price)
        if not math.isfinite(t):
            raise PriceDataError(f"{where}: timestamp {t!r} is not finite")
        if not (price > 0.0 and math.isfinite(price)):
            raise PriceDataError(f"{where}: price must be positive and finite, got {price!r}")
        if times and t <= times[-1]:
            raise PriceDataError(
                f"{where}: timestamps must be strictly increasing ({t!r} after {times[-1]!r})"
            )
        times.append(t)
        prices.append(price)
    return times, prices


def _realised_volatility(times: Sequence[float], prices: Sequence[float]) -> float:
    """Annualised realised volatility: sqrt(sum of squared log-returns / elapsed years)."""
    if len(times) < 2:
        return 0.0
    elapsed = (times[-1] - times[0]) / SECONDS_PER_YEAR
    squares = sum(math.log(b / a) ** 2 for a, b in pairwise(prices))
    return math.sqrt(squares / elapsed)

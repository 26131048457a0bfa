"""Render a simulation run: ``report.json``, ``report.md``, PNG plots and a terminal table.

Everything here is a pure function of :class:`~rooms_sim.metrics.SimMetrics`: no wall-clock
time, no absolute paths, sorted keys, floats rounded to six decimals, so two runs with the
same scenario and seed produce byte-identical ``report.json`` and ``report.md``.

matplotlib (the ``sim`` extra) is imported only by :func:`write_plots`; the JSON, Markdown
and terminal outputs work without it. The plots use matplotlib's object-oriented
``Figure`` API rather than ``pyplot``: nothing is registered in pyplot's global figure list
and the process's backend is left alone, yet PNGs render headless through Agg.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.markup import escape
from rich.table import Table

from rooms_core.money import LAMPORTS_PER_SOL, format_sol
from rooms_sim.metrics import RoomRecord, SimMetrics, TimeSample

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PLOT_FILES",
    "brier_score",
    "calibration_bins",
    "calibration_pairs",
    "report_dict",
    "summary_table",
    "write_json",
    "write_markdown",
    "write_plots",
]

PLOT_FILES = (
    "prices.png",
    "pools.png",
    "calibration.png",
    "pnl_by_strategy.png",
    "revenue.png",
)
"""The files :func:`write_plots` writes, in order."""

REFERRAL_LEVELS = (1, 2, 3)
MAX_ROOMS_PER_ASSET = 300
MAX_PATH_POINTS = 5_000
DPI = 110

_STATE_ORDER = ("QUEUING", "OPEN", "LOCKED", "SETTLING", "SETTLED", "CANCELLED", "VOID")
_BRIER_NOTE = (
    "Brier score: mean of (implied YES probability at lock − outcome)², outcome 1 for YES and "
    "0 for NO; 0 is perfect foresight, 0.25 is what always saying 50 % scores."
)


# --- pure helpers ------------------------------------------------------------------------


def brier_score(pairs: Sequence[tuple[float, int]]) -> float | None:
    """Mean squared error of probability forecasts against 0/1 outcomes; ``None`` if empty.

    >>> brier_score([(1.0, 1), (0.0, 0)])
    0.0
    >>> brier_score([(0.5, 1), (0.5, 0)])
    0.25
    """
    if not pairs:
        return None
    return sum((p - o) ** 2 for p, o in pairs) / len(pairs)


def calibration_bins(
    pairs: Sequence[tuple[float, int]], bins: int = 10
) -> list[tuple[float, float, int]]:
    """Reliability-diagram bins: ``(mean prediction, observed frequency, count)``.

    ``[0, 1]`` is cut into ``bins`` equal intervals, each closed on the left; 1.0 falls in
    the last one. Only non-empty bins are returned, in increasing order of prediction.
    Raises :class:`ValueError` if ``bins < 1`` or a prediction is outside ``[0, 1]``.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    sums = [0.0] * bins
    hits = [0] * bins
    counts = [0] * bins
    for p, outcome in pairs:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"prediction {p!r} is outside [0, 1]")
        index = min(int(p * bins), bins - 1)
        sums[index] += p
        hits[index] += 1 if outcome else 0
        counts[index] += 1
    return [(sums[i] / n, hits[i] / n, n) for i, n in enumerate(counts) if n]


def calibration_pairs(rooms: Iterable[RoomRecord]) -> list[tuple[float, int]]:
    """(implied YES at lock, 1 if YES else 0) for the rooms that count for calibration:
    settled with an outcome and an implied probability, and not refunded for lack of
    opposition."""
    return [
        (r.implied_yes, 1 if r.outcome == "YES" else 0)
        for r in rooms
        if r.state == "SETTLED"
        and r.outcome is not None
        and r.implied_yes is not None
        and not r.refunded_all
    ]


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def _str_keys(mapping: dict[str, int]) -> dict[str, int]:
    return {str(k): int(v) for k, v in mapping.items()}


def _referral_levels(m: SimMetrics) -> dict[str, int]:
    levels = {str(level): m.referral_rewards_by_level.get(level, 0) for level in REFERRAL_LEVELS}
    for level, amount in m.referral_rewards_by_level.items():
        levels.setdefault(str(level), amount)
    return levels


def _brier(m: SimMetrics) -> float | None:
    """The reported Brier score; computed from the rooms if the runner left it unset."""
    if m.brier_score is not None:
        return m.brier_score
    return brier_score(calibration_pairs(m.rooms))


def _calibration_count(m: SimMetrics) -> int:
    if m.calibration_rooms or m.brier_score is not None:
        return m.calibration_rooms
    return len(calibration_pairs(m.rooms))


# --- report.json -------------------------------------------------------------------------


def report_dict(m: SimMetrics) -> dict[str, object]:
    """The content of ``report.json``: totals only (no per-room list, no time series)."""
    referral = _referral_levels(m)
    return {
        "scenario": m.scenario,
        "seed": m.seed,
        "duration_hours": _round(m.duration_hours),
        "agents_by_strategy": _str_keys(m.agents_by_strategy),
        "rooms": {
            "created": m.rooms_created,
            "by_state": _str_keys(m.rooms_by_state),
            "settled_instantly": m.rooms_settled_instantly,
            "refunded_no_opposition": m.rooms_refunded_no_opposition,
        },
        "bets": {
            "placed": m.bets_placed,
            "refunded": m.bets_refunded,
            "refunded_by_reason": _str_keys(m.bets_refunded_by_reason),
            "rejected_by_reason": _str_keys(m.bets_rejected_by_reason),
            "late_attempted": m.late_bets_attempted,
            "late_refunded": m.late_bets_refunded,
        },
        "volume_lamports": m.volume,
        "payouts_lamports": m.payouts,
        "refunds_lamports": m.refunds,
        "protocol_fees_lamports": m.protocol_fees,
        "host_fees_lamports": m.host_fees,
        "dust_lamports": m.dust,
        "referral_rewards_by_level": referral,
        "referral_rewards_lamports": sum(referral.values()),
        "deposits": {"lamports": m.deposits, "count": m.deposit_count},
        "withdrawals": {"lamports": m.withdrawals, "count": m.withdrawal_count},
        "oracle": {"polls": m.oracle_polls, "no_consensus": m.oracle_no_consensus},
        "notifications": {
            "queued": m.notifications_queued,
            "by_kind": _str_keys(m.notifications_by_kind),
            "busiest_minute": m.notifications_busiest_minute,
            "messages_per_second": m.notifications_per_second,
            "wait_seconds": {
                "max": _round(m.notification_wait_max_s),
                "mean": _round(m.notification_wait_mean_s),
            },
        },
        "calibration": {"brier_score": _round(_brier(m)), "rooms": _calibration_count(m)},
        "pnl_by_strategy_lamports": _str_keys(m.pnl_by_strategy),
        "invariants": {str(k): bool(v) for k, v in m.invariants.items()},
        "all_invariants_hold": m.invariants_hold,
    }


def write_json(m: SimMetrics, path: str | Path) -> None:
    """Write ``report.json``: sorted keys, two-space indent, trailing newline."""
    text = json.dumps(report_dict(m), indent=2, sort_keys=True, allow_nan=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")


# --- report.md ---------------------------------------------------------------------------


def _sol(lamports: int) -> str:
    return f"{format_sol(lamports)} SOL"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "–"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str) -> list[str]:
    """A GitHub-flavoured Markdown table; ``align`` holds one of ``l``/``r`` per column."""
    marks = {"l": ":---", "r": "---:"}
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "| " + " | ".join(marks[a] for a in align) + " |",
    ]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def _states_in_order(by_state: dict[str, int]) -> list[str]:
    known = [s for s in _STATE_ORDER if s in by_state]
    return known + sorted(s for s in by_state if s not in _STATE_ORDER)


def _wait(seconds: float) -> str:
    return f"{seconds:,.1f} s"


def _fmt_brier(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _money_flow_rows(m: SimMetrics) -> list[tuple[str, str, str]]:
    referral_total = sum(m.referral_rewards_by_level.values())
    flows: list[tuple[str, int]] = [
        ("Payouts to winners", m.payouts),
        ("Refunds", m.refunds),
        ("Protocol fees (after referral rewards)", m.protocol_fees),
        ("Host fees", m.host_fees),
        ("Referral rewards", referral_total),
        ("Rounding dust", m.dust),
    ]
    rows = [("**Volume (stakes accepted)**", f"**{_sol(m.volume)}**", "100.00 %")]
    rows.extend((name, _sol(amount), _share(amount, m.volume)) for name, amount in flows)
    remainder = m.volume - sum(amount for _, amount in flows)
    if remainder:
        rows.append(("Not yet paid out (open escrow or unaccounted)", _sol(remainder), ""))
    return rows


def _pnl_rows(m: SimMetrics) -> list[tuple[str, str, str, str]]:
    rows = []
    for strategy, pnl in sorted(m.pnl_by_strategy.items(), key=lambda kv: (-kv[1], kv[0])):
        agents = m.agents_by_strategy.get(strategy, 0)
        average = _sol(pnl // agents) if agents else "–"
        rows.append((strategy, str(agents) if agents else "–", _sol(pnl), average))
    return rows


def render_markdown(m: SimMetrics, plot_files: Sequence[str]) -> str:
    """The text of ``report.md``."""
    brier = _brier(m)
    calibration_n = _calibration_count(m)
    holds = m.invariants_hold
    lines: list[str] = [f"# Simulation report: {m.scenario} (seed {m.seed})", ""]

    lines += ["## Headline", ""]
    referral_total = sum(m.referral_rewards_by_level.values())
    headline: list[tuple[str, str]] = [
        ("Scenario", m.scenario),
        ("Seed", str(m.seed)),
        ("Simulated duration", f"{m.duration_hours:g} h"),
        ("Agents", f"{sum(m.agents_by_strategy.values()):,}"),
        ("Rooms created", f"{m.rooms_created:,}"),
        ("Bets placed", f"{m.bets_placed:,}"),
        ("Volume", _sol(m.volume)),
        ("Protocol revenue (fees + dust)", _sol(m.protocol_fees + m.dust)),
        ("Host fees", _sol(m.host_fees)),
        ("Referral rewards", _sol(referral_total)),
        ("Brier score", f"{_fmt_brier(brier)} over {calibration_n:,} rooms"),
        ("Invariants", "✅ all hold" if holds else "❌ some FAILED"),
    ]
    lines += _md_table(("Metric", "Value"), headline, "lr")
    if m.agents_by_strategy:
        mix = ", ".join(f"{k} {v}" for k, v in sorted(m.agents_by_strategy.items()))
        lines += ["", f"Agents by strategy: {mix}."]

    lines += ["", "## Rooms by state", ""]
    states = _states_in_order(m.rooms_by_state)
    total_rooms = sum(m.rooms_by_state.values())
    lines += _md_table(
        ("State", "Rooms", "Share"),
        [(s, f"{m.rooms_by_state[s]:,}", _share(m.rooms_by_state[s], total_rooms)) for s in states]
        or [("–", "0", "–")],
        "lrr",
    )
    lines += [
        "",
        f"- Settled instantly (target touched before the deadline): {m.rooms_settled_instantly:,}",
        f"- Settled with full refunds for lack of opposition: {m.rooms_refunded_no_opposition:,}",
    ]

    lines += ["", "## Bets", ""]
    lines += [
        f"- Placed: {m.bets_placed:,}; refunded: {m.bets_refunded:,}",
        f"- Late bets attempted: {m.late_bets_attempted:,}; refunded as late: "
        f"{m.late_bets_refunded:,}",
    ]
    for title, reasons in (
        ("Refunded by reason", m.bets_refunded_by_reason),
        ("Rejected by reason", m.bets_rejected_by_reason),
    ):
        if reasons:
            detail = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items()))
            lines.append(f"- {title}: {detail}")

    lines += ["", "## Money flows", ""]
    lines += _md_table(("Flow", "Amount", "Share of volume"), _money_flow_rows(m), "lrr")
    levels = _referral_levels(m)
    lines += [
        "",
        "Referral rewards by level: "
        + ", ".join(f"L{k} {_sol(v)}" for k, v in sorted(levels.items(), key=lambda kv: kv[0]))
        + ".",
        "",
        f"Deposits: {_sol(m.deposits)} in {m.deposit_count:,} deposits; "
        f"withdrawals: {_sol(m.withdrawals)} in {m.withdrawal_count:,} withdrawals. "
        f"Oracle: {m.oracle_polls:,} polls, {m.oracle_no_consensus:,} without consensus.",
    ]

    lines += ["", "## Notifications", ""]
    queued = m.notifications_queued
    if queued:
        lines += [
            f"{queued:,} notifications queued for the bot to send; the busiest simulated "
            f"minute queued {m.notifications_busiest_minute:,}. Sent first come, first served "
            f"at {m.notifications_per_second} messages/s (the dispatcher's overall limit), "
            f"the longest wait would be {_wait(m.notification_wait_max_s)} and the mean "
            f"{_wait(m.notification_wait_mean_s)}.",
            "",
        ]
        lines += _md_table(
            ("Kind", "Queued"),
            [(k, f"{v:,}") for k, v in sorted(m.notifications_by_kind.items())],
            "lr",
        )
    else:
        lines.append("No notifications were queued.")

    lines += ["", "## Calibration", ""]
    lines += [
        f"Brier score **{_fmt_brier(brier)}** over {calibration_n:,} settled rooms "
        "(rooms refunded for lack of opposition excluded).",
        "",
        _BRIER_NOTE,
    ]
    bins = calibration_bins(calibration_pairs(m.rooms))
    if bins:
        lines.append("")
        lines += _md_table(
            ("Mean implied YES", "Observed YES", "Rooms"),
            [(f"{p:.3f}", f"{f:.3f}", f"{n:,}") for p, f, n in bins],
            "rrr",
        )

    lines += ["", "## P&L by strategy", ""]
    pnl_rows = _pnl_rows(m)
    if pnl_rows:
        lines += _md_table(("Strategy", "Agents", "P&L", "Per agent"), pnl_rows, "lrrr")
        lines += ["", "P&L = final balance + withdrawn − deposited."]
    else:
        lines.append("No P&L recorded.")

    lines += ["", "## Invariants", ""]
    if m.invariants:
        lines += [f"- {'✅' if ok else '❌'} `{name}`" for name, ok in m.invariants.items()]
    else:
        lines.append("No invariants were checked.")
    lines += ["", f"**{'All invariants hold.' if holds else 'Some invariants FAILED.'}**"]

    if plot_files:
        lines += ["", "## Plots", ""]
        for name in plot_files:
            stem = Path(name).stem.replace("_", " ")
            lines += [f"### {stem}", "", f"![{stem}]({Path(name).as_posix()})", ""]
        lines.pop()
    return "\n".join(lines) + "\n"


def write_markdown(m: SimMetrics, path: str | Path, plot_files: list[str]) -> None:
    """Write ``report.md``; ``plot_files`` are names relative to the report's directory."""
    Path(path).write_text(render_markdown(m, plot_files), encoding="utf-8")


# --- terminal ----------------------------------------------------------------------------


def summary_table(m: SimMetrics) -> Table:
    """A compact two-column summary for the CLI."""
    table = Table(title=escape(f"{m.scenario} · seed {m.seed} · {m.duration_hours:g} h"))
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    states = " · ".join(f"{s} {m.rooms_by_state[s]:,}" for s in _states_in_order(m.rooms_by_state))
    table.add_row("rooms", escape(f"{m.rooms_created:,} created"))
    table.add_row("  by state", escape(states or "–"))
    table.add_row(
        "  instant / no opposition",
        f"{m.rooms_settled_instantly:,} / {m.rooms_refunded_no_opposition:,}",
    )
    rejected = sum(m.bets_rejected_by_reason.values())
    table.add_row(
        "bets",
        f"{m.bets_placed:,} placed · {m.bets_refunded:,} refunded · {rejected:,} rejected",
    )
    table.add_row(
        "  late", f"{m.late_bets_attempted:,} attempted · {m.late_bets_refunded:,} refunded"
    )
    table.add_row("volume", _sol(m.volume))
    table.add_row("payouts / refunds", f"{_sol(m.payouts)} / {_sol(m.refunds)}")
    table.add_row("protocol fees", f"{_sol(m.protocol_fees)} (+ dust {_sol(m.dust)})")
    table.add_row("host fees", _sol(m.host_fees))
    levels = _referral_levels(m)
    table.add_row(
        "referral rewards",
        " · ".join(f"L{k} {_sol(v)}" for k, v in sorted(levels.items())),
    )
    table.add_row(
        "notifications",
        f"{m.notifications_queued:,} queued · busiest minute "
        f"{m.notifications_busiest_minute:,} · longest wait "
        f"{_wait(m.notification_wait_max_s)} at {m.notifications_per_second}/s",
    )
    brier = _brier(m)
    table.add_row("Brier score", f"{_fmt_brier(brier)} ({_calibration_count(m):,} rooms)")
    if m.invariants_hold:
        table.add_row("invariants", f"[green]all {len(m.invariants)} hold[/green]")
    else:
        failed = ", ".join(k for k, v in m.invariants.items() if not v)
        table.add_row("invariants", f"[red]FAILED: {escape(failed)}[/red]")
    return table


# --- plots -------------------------------------------------------------------------------

_T = TypeVar("_T")

_OUTCOME_COLOURS = {
    "YES": "tab:green",
    "NO": "tab:red",
    "CANCELLED": "grey",
    "VOID": "tab:purple",
    "refunded": "goldenrod",
    "active": "tab:blue",
}
_OUTCOME_LABELS = {
    "YES": "settled YES",
    "NO": "settled NO",
    "CANCELLED": "cancelled",
    "VOID": "void",
    "refunded": "settled, all refunded",
    "active": "still active",
}


def _room_category(r: RoomRecord) -> str:
    if r.state in ("CANCELLED", "VOID"):
        return r.state
    if r.state == "SETTLED":
        if r.refunded_all:
            return "refunded"
        if r.outcome in ("YES", "NO"):
            return r.outcome
    return "active"


def _evenly_spaced(items: Sequence[_T], cap: int) -> list[_T]:
    n = len(items)
    if n <= cap:
        return list(items)
    return [items[i * n // cap] for i in range(cap)]


def _no_data(ax: Axes, text: str = "no data") -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color="grey",
    )


def _save(fig: Figure, out_dir: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=DPI)
    fig.clear()
    return name


def _to_sol(lamports: int) -> float:
    return lamports / LAMPORTS_PER_SOL


def _short_sol(lamports: int) -> str:
    """SOL to at most three decimals, for chart annotations."""
    text = f"{_to_sol(lamports):,.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _plot_prices(m: SimMetrics, out_dir: Path) -> str:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    assets = list(m.price_paths)
    assets += sorted({r.asset for r in m.rooms} - set(assets))
    rooms_by_asset: dict[str, list[RoomRecord]] = {a: [] for a in assets}
    for room in sorted(m.rooms, key=lambda r: (r.created_h, r.room_id)):
        rooms_by_asset[room.asset].append(room)

    n = max(1, len(assets))
    ncols = 1 if n <= 3 else 2
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(11 if ncols == 1 else 15, 1.0 + 3.2 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(assets) :]:
        ax.set_visible(False)
    if not assets:
        ax = axes[0]
        ax.set_visible(True)
        ax.set_title("Price paths and room targets")
        ax.set_xlabel("simulated time (h)")
        ax.set_ylabel("price")
        _no_data(ax)
        return _save(fig, out_dir, "prices.png")

    for ax, asset in zip(axes, assets, strict=False):
        path = m.price_paths.get(asset, [])
        step = max(1, math.ceil(len(path) / MAX_PATH_POINTS))
        shown = path[::step]
        if shown and path and shown[-1] is not path[-1]:
            shown.append(path[-1])
        rooms = _evenly_spaced(rooms_by_asset[asset], MAX_ROOMS_PER_ASSET)
        values = [p for _, p in path if p > 0] + [r.target for r in rooms if r.target > 0]
        log = bool(values) and min(values) > 0 and max(values) / min(values) > 10
        if shown:
            ax.plot(
                [t for t, _ in shown],
                [p for _, p in shown],
                color="black",
                linewidth=0.9,
                label="price",
            )
        categories = [_room_category(r) for r in rooms]
        if rooms:
            ax.hlines(
                [r.target for r in rooms],
                [r.created_h for r in rooms],
                [r.settle_h for r in rooms],
                colors=[_OUTCOME_COLOURS[c] for c in categories],
                linewidth=1.6,
                alpha=0.75,
            )
        if log:
            ax.set_yscale("log")
        drawn = f"{len(rooms)} of {len(rooms_by_asset[asset])}" if rooms else "no"
        title = f"{asset}: price and room targets ({drawn} rooms shown)"
        ax.set_title(title + (", log scale" if log else ""))
        ax.set_xlabel("simulated time (h)")
        ax.set_ylabel(f"{asset} (price units)")
        handles = [Line2D([], [], color="black", linewidth=0.9, label="price")] if shown else []
        handles += [
            Line2D([], [], color=_OUTCOME_COLOURS[c], linewidth=2, label=_OUTCOME_LABELS[c])
            for c in _OUTCOME_COLOURS
            if c in categories
        ]
        if handles:
            ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.8)
        else:
            _no_data(ax)
        ax.grid(True, alpha=0.3)
    return _save(fig, out_dir, "prices.png")


def _sample_times(samples: Sequence[TimeSample]) -> list[float]:
    return [s.t_h for s in samples]


def _plot_pools(m: SimMetrics, out_dir: Path) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(11, 4.5))
    ax = fig.subplots()
    ax.set_title("Open pools and active rooms over time")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("open pools (SOL in escrow)", color="tab:blue")
    if not m.samples:
        _no_data(ax)
        return _save(fig, out_dir, "pools.png")
    t = _sample_times(m.samples)
    (pools,) = ax.plot(
        t, [_to_sol(s.open_pools) for s in m.samples], color="tab:blue", label="open pools (SOL)"
    )
    ax.tick_params(axis="y", labelcolor="tab:blue")
    twin = ax.twinx()
    (active,) = twin.plot(
        t,
        [s.active_rooms for s in m.samples],
        color="tab:orange",
        drawstyle="steps-post",
        label="active rooms",
    )
    twin.set_ylabel("active rooms", color="tab:orange")
    twin.tick_params(axis="y", labelcolor="tab:orange")
    ax.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    twin.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(handles=[pools, active], loc="upper left")
    return _save(fig, out_dir, "pools.png")


def _plot_calibration(m: SimMetrics, out_dir: Path) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    pairs = calibration_pairs(m.rooms)
    bins = calibration_bins(pairs)
    brier = _brier(m) if pairs else None
    fig = Figure(figsize=(7.5, 8))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    top.set_title(
        f"Calibration of implied YES at lock — Brier {_fmt_brier(brier)} ({len(pairs):,} rooms)"
    )
    top.set_ylabel("observed YES frequency")
    top.set_xlim(0, 1)
    top.set_ylim(-0.03, 1.03)
    top.grid(True, alpha=0.3)
    bottom.set_xlabel("implied YES probability (YES pool / total pool at lock)")
    bottom.set_ylabel("rooms")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    if bins:
        biggest = max(n for _, _, n in bins)
        top.plot([p for p, _, _ in bins], [f for _, f, _ in bins], color="tab:blue", alpha=0.6)
        top.scatter(
            [p for p, _, _ in bins],
            [f for _, f, _ in bins],
            s=[30 + 370 * n / biggest for _, _, n in bins],
            color="tab:blue",
            alpha=0.8,
            edgecolors="white",
            zorder=3,
            label="rooms binned by prediction (size ∝ count)",
        )
        bottom.hist([p for p, _ in pairs], bins=10, range=(0, 1), color="tab:blue", alpha=0.7)
    else:
        _no_data(top)
        _no_data(bottom)
    top.legend(loc="upper left", fontsize=9)
    return _save(fig, out_dir, "calibration.png")


def _plot_pnl(m: SimMetrics, out_dir: Path) -> str:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    items = sorted(m.pnl_by_strategy.items(), key=lambda kv: (kv[1], kv[0]))
    fig = Figure(figsize=(10, 1.6 + 0.55 * max(3, len(items))))
    ax = fig.subplots()
    ax.set_title("P&L by strategy (balance + withdrawn − deposited)")
    ax.set_xlabel("P&L (SOL)")
    ax.set_ylabel("strategy")
    if not items:
        _no_data(ax)
        ax.set_yticks([])
        return _save(fig, out_dir, "pnl_by_strategy.png")
    names = [k for k, _ in items]
    values = [_to_sol(v) for _, v in items]
    colours = ["tab:green" if v >= 0 else "tab:red" for v in values]
    ax.barh(names, values, color=colours, alpha=0.85)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(abs(v) for v in values) or 1.0
    for y, (name, lamports) in enumerate(items):
        agents = m.agents_by_strategy.get(name, 0)
        note = f"{_short_sol(lamports)} SOL"
        if agents:
            note += f" · {_short_sol(lamports // agents)} SOL/agent × {agents}"
        value = _to_sol(lamports)
        # Losses are labelled right of the zero line (that side of a loss row is empty), so
        # a long label never runs into the strategy names.
        ax.annotate(
            note,
            (max(value, 0.0), y),
            xytext=(4, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
        )
    left = min(0.0, min(values)) - 0.05 * span
    right = max(0.0, max(values)) + 0.8 * span
    ax.set_xlim(left, right)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(color="tab:green", alpha=0.85, label="gain"),
            Patch(color="tab:red", alpha=0.85, label="loss"),
        ],
        loc="lower right",
        fontsize=8,
    )
    return _save(fig, out_dir, "pnl_by_strategy.png")


def _plot_revenue(m: SimMetrics, out_dir: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5))
    ax = fig.subplots()
    ax.set_title("Cumulative revenue over time")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("cumulative amount (SOL)")
    if not m.samples:
        _no_data(ax)
        return _save(fig, out_dir, "revenue.png")
    t = _sample_times(m.samples)
    series = (
        ("protocol fees (incl. dust)", "tab:blue", [s.protocol_fees for s in m.samples]),
        ("host fees", "tab:orange", [s.host_fees for s in m.samples]),
        ("referral rewards", "tab:green", [s.referral_rewards for s in m.samples]),
    )
    for label, colour, lamports in series:
        ax.plot(t, [_to_sol(v) for v in lamports], color=colour, label=label)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return _save(fig, out_dir, "revenue.png")


def write_plots(m: SimMetrics, out_dir: str | Path) -> list[str]:
    """Write the PNG plots into ``out_dir``; returns their file names (see
    :data:`PLOT_FILES`). Needs matplotlib (the ``sim`` extra). Empty data gives charts that
    say "no data" rather than an error."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return [
        _plot_prices(m, directory),
        _plot_pools(m, directory),
        _plot_calibration(m, directory),
        _plot_pnl(m, directory),
        _plot_revenue(m, directory),
    ]

"""Report rendering: report.json shape and determinism, Brier and calibration helpers,
plots (also for empty metrics) and the Markdown summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from rooms_core.money import LAMPORTS_PER_SOL
from rooms_sim.metrics import RoomRecord, SimMetrics, TimeSample
from rooms_sim.report import (
    PLOT_FILES,
    brier_score,
    calibration_bins,
    calibration_pairs,
    report_dict,
    summary_table,
    write_json,
    write_markdown,
    write_plots,
)

SOL = LAMPORTS_PER_SOL
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

REQUIRED_KEYS = {
    "scenario",
    "seed",
    "duration_hours",
    "agents_by_strategy",
    "rooms",
    "bets",
    "volume_lamports",
    "payouts_lamports",
    "refunds_lamports",
    "protocol_fees_lamports",
    "host_fees_lamports",
    "dust_lamports",
    "referral_rewards_by_level",
    "deposits",
    "withdrawals",
    "oracle",
    "calibration",
    "pnl_by_strategy_lamports",
    "invariants",
    "all_invariants_hold",
}


def _room(
    room_id: int,
    *,
    asset: str = "SOL",
    state: str = "SETTLED",
    outcome: str | None = None,
    implied_yes: float | None = None,
    refunded_all: bool = False,
    target: float = 150.0,
) -> RoomRecord:
    created = float(room_id)
    return RoomRecord(
        room_id=room_id,
        asset=asset,
        comparator=">=",
        target=target,
        created_h=created,
        lock_h=created + 1,
        settle_h=created + 2,
        closed_h=created + 2 if state in ("SETTLED", "CANCELLED", "VOID") else None,
        state=state,
        outcome=outcome,
        implied_yes=implied_yes,
        yes_pool=SOL,
        no_pool=2 * SOL,
        bets=3,
        refunded_all=refunded_all,
    )


def _metrics() -> SimMetrics:
    rooms = [
        _room(1, outcome="YES", implied_yes=0.8),
        _room(2, outcome="NO", implied_yes=0.3),
        _room(3, outcome="YES", implied_yes=0.55),
        _room(4, outcome="NO", implied_yes=0.12),
        _room(5, outcome="YES", implied_yes=1.0, refunded_all=True),  # excluded
        _room(6, state="CANCELLED"),
        _room(7, state="VOID"),
        _room(8, state="OPEN"),
        _room(9, asset="PUMP market cap", outcome="NO", implied_yes=0.6, target=5e6),
        _room(10, asset="PUMP market cap", outcome="YES", implied_yes=0.7, target=2e7),
    ]
    samples = [
        TimeSample(
            t_h=h / 2,
            open_pools=(h % 7) * SOL,
            active_rooms=h % 5,
            protocol_fees=h * SOL // 100,
            host_fees=h * SOL // 200,
            referral_rewards=h * SOL // 400,
        )
        for h in range(30)
    ]
    return SimMetrics(
        scenario="unit",
        seed=42,
        duration_hours=12.3456789,
        agents_by_strategy={"informed": 3, "noise": 5, "late": 2},
        rooms_created=len(rooms),
        rooms_by_state={"SETTLED": 7, "CANCELLED": 1, "VOID": 1, "OPEN": 1},
        rooms_settled_instantly=2,
        rooms_refunded_no_opposition=1,
        bets_placed=30,
        bets_refunded=6,
        bets_refunded_by_reason={"LATE_BET": 2, "NO_OPPOSITION": 4},
        bets_rejected_by_reason={"ROOM_LOCKED": 3},
        late_bets_attempted=5,
        late_bets_refunded=2,
        volume=100 * SOL,
        payouts=80 * SOL,
        refunds=12 * SOL,
        protocol_fees=4 * SOL,
        host_fees=2 * SOL,
        dust=17,
        referral_rewards_by_level={1: SOL, 2: SOL // 2, 3: SOL // 2 - 17},
        deposits=500 * SOL,
        deposit_count=10,
        withdrawals=50 * SOL,
        withdrawal_count=2,
        oracle_polls=14_400,
        oracle_no_consensus=3,
        notifications_by_kind={"BET_CONFIRMED": 30, "BET_WON": 12},
        notifications_busiest_minute=9,
        notifications_per_second=30,
        notification_wait_max_s=1.23456789,
        notification_wait_mean_s=0.25,
        brier_score=0.123456789,
        calibration_rooms=6,
        pnl_by_strategy={"informed": 9 * SOL, "noise": -7 * SOL, "late": -SOL, "host": SOL},
        rooms=rooms,
        samples=samples,
        price_paths={
            "SOL": [(h / 2, 150.0 + math.sin(h / 3) * 5) for h in range(30)],
            "PUMP market cap": [(h / 2, 1e6 * 1.2**h) for h in range(30)],
        },
        invariants={"ledger_sums_to_zero": True, "escrows_empty": True},
    )


# --- report.json -------------------------------------------------------------------------


def test_report_dict_has_every_required_key() -> None:
    report = report_dict(_metrics())

    assert set(report) >= REQUIRED_KEYS
    rooms, bets = report["rooms"], report["bets"]
    assert isinstance(rooms, dict)
    assert isinstance(bets, dict)
    assert set(rooms) >= {
        "created",
        "by_state",
        "settled_instantly",
        "refunded_no_opposition",
    }
    assert set(bets) >= {
        "placed",
        "refunded",
        "refunded_by_reason",
        "rejected_by_reason",
        "late_attempted",
        "late_refunded",
    }
    assert report["referral_rewards_by_level"] == {"1": SOL, "2": SOL // 2, "3": SOL // 2 - 17}
    assert report["deposits"] == {"lamports": 500 * SOL, "count": 10}
    assert report["withdrawals"] == {"lamports": 50 * SOL, "count": 2}
    assert report["oracle"] == {"polls": 14_400, "no_consensus": 3}
    assert report["calibration"] == {"brier_score": 0.123457, "rooms": 6}
    assert report["notifications"] == {
        "queued": 42,
        "by_kind": {"BET_CONFIRMED": 30, "BET_WON": 12},
        "busiest_minute": 9,
        "messages_per_second": 30,
        "wait_seconds": {"max": 1.234568, "mean": 0.25},
    }
    assert report["duration_hours"] == 12.345679
    assert report["all_invariants_hold"] is True
    assert "rooms_list" not in report
    assert "samples" not in report


def test_report_json_is_byte_identical_and_relative(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_json(_metrics(), first)
    write_json(_metrics(), second)

    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.endswith(b"}\n")
    assert str(tmp_path).encode() not in data
    assert json.loads(data)["seed"] == 42


def test_report_dict_of_empty_metrics_defaults() -> None:
    report = report_dict(SimMetrics(scenario="empty", seed=1, duration_hours=0.0))

    assert set(report) >= REQUIRED_KEYS
    assert report["referral_rewards_by_level"] == {"1": 0, "2": 0, "3": 0}
    assert report["calibration"] == {"brier_score": None, "rooms": 0}
    assert report["all_invariants_hold"] is True
    json.dumps(report, allow_nan=False)


# --- helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([(1.0, 1), (0.0, 0)], 0.0),
        ([(0.5, 1), (0.5, 0)], 0.25),
        ([(0.0, 1)], 1.0),
        ([(0.8, 1), (0.3, 0)], (0.04 + 0.09) / 2),
    ],
)
def test_brier_score_known_values(pairs: list[tuple[float, int]], expected: float) -> None:
    assert brier_score(pairs) == pytest.approx(expected)


def test_brier_score_of_nothing_is_none() -> None:
    assert brier_score([]) is None


def test_calibration_bins_counts_and_frequencies() -> None:
    pairs = [(0.05, 0), (0.05, 1), (0.15, 0), (0.95, 1), (1.0, 1), (0.9, 0)]

    bins = calibration_bins(pairs)

    assert [n for _, _, n in bins] == [2, 1, 3]
    assert sum(n for _, _, n in bins) == len(pairs)
    assert bins[0] == pytest.approx((0.05, 0.5, 2))
    assert bins[1] == pytest.approx((0.15, 0.0, 1))
    assert bins[2] == pytest.approx(((0.95 + 1.0 + 0.9) / 3, 2 / 3, 3))  # 1.0 in last bin
    assert calibration_bins(pairs, bins=1) == [
        pytest.approx((sum(p for p, _ in pairs) / 6, 0.5, 6))
    ]
    assert calibration_bins([]) == []


def test_calibration_bins_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="outside"):
        calibration_bins([(1.5, 1)])
    with pytest.raises(ValueError, match="bins"):
        calibration_bins([(0.5, 1)], bins=0)


def test_calibration_pairs_selects_settled_rooms_with_opposition() -> None:
    pairs = calibration_pairs(_metrics().rooms)

    assert pairs == [(0.8, 1), (0.3, 0), (0.55, 1), (0.12, 0), (0.6, 0), (0.7, 1)]


# --- plots and Markdown ------------------------------------------------------------------


def _assert_pngs(directory: Path, names: list[str]) -> None:
    assert names == list(PLOT_FILES)
    for name in names:
        data = (directory / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 1_000, name


def test_write_plots_writes_five_pngs(tmp_path: Path) -> None:
    _assert_pngs(tmp_path, write_plots(_metrics(), tmp_path))


def test_write_plots_with_empty_metrics(tmp_path: Path) -> None:
    empty = SimMetrics(scenario="empty", seed=1, duration_hours=1.0)
    out = tmp_path / "nested" / "out"

    _assert_pngs(out, write_plots(empty, out))


def test_markdown_mentions_every_plot_and_flags_failures(tmp_path: Path) -> None:
    m = _metrics()
    m.invariants["no_room_paid_twice"] = False
    path = tmp_path / "report.md"

    write_markdown(m, path, list(PLOT_FILES))

    text = path.read_text(encoding="utf-8")
    for name in PLOT_FILES:
        assert f"]({name})" in text
    assert "❌ `no_room_paid_twice`" in text
    assert "✅ `ledger_sums_to_zero`" in text
    assert "0.1235" in text  # Brier score
    assert "100 SOL" in text  # volume
    assert "42 notifications queued" in text
    assert "the longest wait would be 1.2 s" in text
    assert "| BET_WON | 12 |" in text
    assert str(tmp_path) not in text


def test_markdown_all_good_has_no_cross(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    write_markdown(_metrics(), path, [])

    text = path.read_text(encoding="utf-8")
    assert "❌" not in text
    assert "All invariants hold" in text


def test_summary_table_renders() -> None:
    m = _metrics()
    m.invariants["escrows_empty"] = False
    console = Console(width=120, record=True, color_system=None)

    console.print(summary_table(m))

    text = console.export_text()
    assert "FAILED: escrows_empty" in text
    assert "100 SOL" in text
    assert "0.1235" in text
    assert "42 queued · busiest minute 9 · longest wait 1.2 s at 30/s" in text

"""What each screen of the bot looks like: text and inline keyboard, built from core views.

Pure functions (no I/O): the handlers fetch, these render. Texts come from the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from rooms_bot.callbacks import (
    Admin,
    AdminCb,
    AdminWithdrawalCb,
    BetAmountCb,
    BetCancelCb,
    BetConfirmCb,
    BetSideCb,
    CreateCancelCb,
    CreateComparatorCb,
    CreateConfirmCb,
    CreateDurationCb,
    CreateKindCb,
    Menu,
    MenuCb,
    RoomCb,
    RoomsPageCb,
    Wallet,
    WalletCb,
    WithdrawCancelCb,
    WithdrawConfirmCb,
)
from rooms_bot.texts import Html, clip, t
from rooms_core.ledger import EntryKind
from rooms_core.models import (
    Asset,
    AssetKind,
    BetStatus,
    Comparator,
    Metric,
    PlatformControls,
    Side,
    Withdrawal,
)
from rooms_core.money import BPS_DENOMINATOR, format_sol
from rooms_core.parimutuel import BetQuote
from rooms_core.room import Room, RoomState
from rooms_core.services.admin import PlatformStats
from rooms_core.services.custody import SolvencyReport
from rooms_core.services.queries import BetView, HistoryLine, RoomPage, RoomView
from rooms_core.services.users import ReferralStats
from rooms_core.settings import RoomsSettings


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _menu_button() -> InlineKeyboardButton:
    return _button(t("menu.back"), MenuCb(to=Menu.HOME).pack())


# --- formatting ---------------------------------------------------------------------


def pct(bps: int) -> str:
    """Basis points as a percentage without trailing zeros: 300 -> "3", 150 -> "1.5"."""
    value = Decimal(bps) * 100 / BPS_DENOMINATOR
    return format(value.normalize(), "f")


def usd(value: Decimal) -> str:
    """A USD figure for people: thousands separated, cents above 1, six significant
    digits below."""
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.6g}"


def number(value: Decimal) -> str:
    """A target as the host typed it, thousands separated."""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{normal:,.0f}"
    return f"{normal:,f}"


def asset_label(asset: Asset) -> str:
    name = asset.id if asset.kind is AssetKind.COIN else f"{asset.id[:4]}…{asset.id[-4:]}"
    return name if asset.metric is Metric.PRICE_USD else f"{name} market cap"


def question(room: Room) -> str:
    sign = "≥" if room.comparator is Comparator.GTE else "≤"
    return f"{asset_label(room.asset)} {sign} {usd(room.target)}"


def span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return t("time.past")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = f"{hours}h {minutes:02d}m"
    elif minutes:
        text = f"{minutes}m"
    else:
        text = f"{secs}s"
    return t("time.in", span=text)


def multiple(value: Decimal | None) -> str:
    if value is None:
        return t("room.no_multiple")
    return t("room.multiple", value=f"{value:.2f}")


def multiple_label(value: Decimal | None) -> str:
    """For a button: the multiple when there is one, nothing otherwise."""
    return "" if value is None else multiple(value)


def side_name(side: Side) -> str:
    return side.value


# --- menu ---------------------------------------------------------------------------


def main_menu(balance: int, mini_app_url: str | None = None) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("menu.rooms"), MenuCb(to=Menu.ROOMS).pack()),
        _button(t("menu.create"), MenuCb(to=Menu.CREATE).pack()),
    )
    kb.row(
        _button(t("menu.wallet"), MenuCb(to=Menu.WALLET).pack()),
        _button(t("menu.my_bets"), MenuCb(to=Menu.MY_BETS).pack()),
    )
    kb.row(
        _button(t("menu.referrals"), MenuCb(to=Menu.REFERRALS).pack()),
        _button(t("menu.help"), MenuCb(to=Menu.HELP).pack()),
    )
    if mini_app_url:
        kb.row(InlineKeyboardButton(text="📈 Live view", web_app=WebAppInfo(url=mini_app_url)))
    return Screen(t("menu.title", balance=format_sol(balance)), kb.as_markup())


def help_screen(settings: RoomsSettings) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_menu_button())
    return Screen(
        t(
            "help.text",
            fee=pct(settings.fee_bps),
            protocol=pct(settings.protocol_fee_bps),
            host=pct(settings.host_fee_bps),
        ),
        kb.as_markup(),
    )


# --- rooms --------------------------------------------------------------------------


def rooms_page(page: RoomPage) -> Screen:
    kb = InlineKeyboardBuilder()
    lines = [t("rooms.title", page=page.page + 1)]
    if not page.rooms:
        lines.append(t("rooms.empty"))
    for view in page.rooms:
        room = view.room
        lines.append(
            t(
                "rooms.line",
                id=room.id,
                title=room.title[:60],
                question=question(room),
                state=t(f"state.{room.state.value}"),
                pool=format_sol(room.total_pool),
            )
        )
        kb.row(_button(f"#{room.id} {room.title[:40]}", RoomCb(room_id=room.id).pack()))
    nav: list[InlineKeyboardButton] = []
    if page.page > 0:
        nav.append(_button(t("rooms.prev"), RoomsPageCb(page=page.page - 1).pack()))
    if page.has_next:
        nav.append(_button(t("rooms.next"), RoomsPageCb(page=page.page + 1).pack()))
    if nav:
        kb.row(*nav)
    if not page.rooms:
        kb.row(_button(t("menu.create"), MenuCb(to=Menu.CREATE).pack()))
    kb.row(_menu_button())
    return Screen(clip("\n\n".join(lines)), kb.as_markup())


def _times(room: Room, now: datetime) -> str:
    if room.state in (RoomState.QUEUING, RoomState.OPEN):
        return t(
            "room.times_open",
            lock_in=span(room.lock_at - now),
            settle_in=span(room.settle_at - now),
        )
    if room.state is RoomState.LOCKED:
        return t("room.times_locked", settle_in=span(room.settle_at - now))
    if room.state is RoomState.SETTLING:
        return t("room.times_settling")
    if room.state is RoomState.SETTLED and room.outcome is not None:
        return t(
            "room.outcome",
            outcome=room.outcome.value,
            value=usd(room.settlement_value or Decimal(0)),
            sources=", ".join(room.settlement_sources) or "—",
        )
    return t("room.closed", reason=room.close_reason or t(f"state.{room.state.value}"))


def room_card(view: RoomView, now: datetime, *, admin: bool = False) -> Screen:
    room = view.room
    text = t(
        "room.card",
        id=room.id,
        title=room.title,
        question=question(room),
        state=t(f"state.{room.state.value}"),
        times=Html(_times(room, now)),
        yes_pool=format_sol(room.yes_pool),
        yes_bets=room.yes_bets,
        yes_multiple=multiple(view.yes_multiple),
        no_pool=format_sol(room.no_pool),
        no_bets=room.no_bets,
        no_multiple=multiple(view.no_multiple),
        host=view.host_name or "—",
    )
    kb = InlineKeyboardBuilder()
    if room.state in (RoomState.QUEUING, RoomState.OPEN) and now < room.lock_at:
        kb.row(
            _button(
                t("room.bet_yes", multiple=multiple_label(view.yes_multiple)).strip(),
                BetSideCb(room_id=room.id, side=Side.YES).pack(),
            ),
            _button(
                t("room.bet_no", multiple=multiple_label(view.no_multiple)).strip(),
                BetSideCb(room_id=room.id, side=Side.NO).pack(),
            ),
        )
    kb.row(
        _button(t("room.refresh"), RoomCb(room_id=room.id).pack()),
        _button(t("room.back"), RoomsPageCb(page=0).pack()),
    )
    return Screen(text, kb.as_markup())


def amount_chooser(
    room: Room, side: Side, balance: int, presets: Sequence[int], settings: RoomsSettings
) -> Screen:
    kb = InlineKeyboardBuilder()
    usable = [p for p in presets if settings.min_stake <= p <= settings.max_stake]
    for amount in usable:
        kb.button(
            text=t("bet.preset", amount=format_sol(amount)),
            callback_data=BetAmountCb(room_id=room.id, side=side, lamports=amount).pack(),
        )
    kb.adjust(4)
    kb.row(
        _button(t("bet.custom"), BetAmountCb(room_id=room.id, side=side, lamports=0).pack()),
        _button(t("bet.cancel_button"), BetCancelCb(room_id=room.id).pack()),
    )
    return Screen(
        t(
            "bet.choose_amount",
            id=room.id,
            title=room.title,
            side=side_name(side),
            balance=format_sol(balance),
            min=format_sol(settings.min_stake),
            max=format_sol(settings.max_stake),
        ),
        kb.as_markup(),
    )


def bet_confirmation(room: Room, side: Side, quote: BetQuote, nonce: str) -> Screen:
    if quote.refund_only:
        projection = t("bet.projection_refund")
        fee_amount = ""
    else:
        projection = t(
            "bet.projection_win",
            side=side_name(side),
            payout=format_sol(quote.payout_if_win),
            profit=format_sol(quote.profit_if_win),
        )
        fee_amount = t("bet.fee_amount", fee=format_sol(quote.fee))
    text = t(
        "bet.confirm",
        id=room.id,
        title=room.title,
        side=side_name(side),
        stake=format_sol(quote.stake),
        projection=Html(projection),
        fee_pct=pct(room.fee_bps),
        protocol_pct=pct(room.protocol_fee_bps),
        host_pct=pct(room.host_fee_bps),
        fee_amount=Html(fee_amount),
    )
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(
            t("bet.confirm_button", stake=format_sol(quote.stake), side=side_name(side)),
            BetConfirmCb(room_id=room.id, side=side, lamports=quote.stake, nonce=nonce).pack(),
        )
    )
    kb.row(_button(t("bet.cancel_button"), BetCancelCb(room_id=room.id).pack()))
    return Screen(text, kb.as_markup())


def bet_placed(room: Room, side: Side, stake: int, balance: int) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("room.refresh"), RoomCb(room_id=room.id).pack()),
        _button(t("menu.my_bets"), MenuCb(to=Menu.MY_BETS).pack()),
    )
    kb.row(_menu_button())
    return Screen(
        t("bet.placed", stake=format_sol(stake), side=side_name(side), id=room.id,
          balance=format_sol(balance)),
        kb.as_markup(),
    )  # fmt: skip


def back_to_room(text: str, room_id: int) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("room.refresh"), RoomCb(room_id=room_id).pack()),
        _button(t("room.back"), RoomsPageCb(page=0).pack()),
    )
    return Screen(text, kb.as_markup())


# --- create a room -------------------------------------------------------------------


def create_kind() -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_button(t("create.kind_coin"), CreateKindCb(token=False).pack()))
    kb.row(_button(t("create.kind_token"), CreateKindCb(token=True).pack()))
    kb.row(_button(t("create.cancel"), CreateCancelCb().pack()))
    return Screen(t("create.kind"), kb.as_markup())


def create_comparator(asset: Asset) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("create.gte"), CreateComparatorCb(at_least=True).pack()),
        _button(t("create.lte"), CreateComparatorCb(at_least=False).pack()),
    )
    kb.row(_button(t("create.cancel"), CreateCancelCb().pack()))
    return Screen(t("create.ask_comparator", asset=asset_label(asset)), kb.as_markup())


def create_duration(presets: Sequence[int]) -> Screen:
    kb = InlineKeyboardBuilder()
    for minutes in presets:
        label = f"{minutes}m" if minutes < 60 else f"{minutes // 60}h"
        kb.button(text=label, callback_data=CreateDurationCb(minutes=minutes).pack())
    kb.adjust(5)
    kb.row(
        _button(t("create.duration_custom"), CreateDurationCb(minutes=0).pack()),
        _button(t("create.cancel"), CreateCancelCb().pack()),
    )
    return Screen(t("create.ask_duration"), kb.as_markup())


def create_review(
    *,
    title: str,
    room_question: str,
    settle_at: datetime,
    lock_at: datetime,
    now: datetime,
    host_fee_bps: int,
    nonce: str,
) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("create.confirm"), CreateConfirmCb(nonce=nonce).pack()),
        _button(t("create.cancel"), CreateCancelCb().pack()),
    )
    return Screen(
        t(
            "create.review",
            title=title,
            question=room_question,
            settle_at=f"{settle_at:%Y-%m-%d %H:%M} UTC",
            settle_in=span(settle_at - now),
            lock_in=span(lock_at - now),
            host_pct=pct(host_fee_bps),
        ),
        kb.as_markup(),
    )


def room_created(room: Room) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_button(f"#{room.id} {room.title[:40]}", RoomCb(room_id=room.id).pack()))
    kb.row(_menu_button())
    return Screen(t("create.done", id=room.id, title=room.title), kb.as_markup())


def menu_only(text: str) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_menu_button())
    return Screen(text, kb.as_markup())


def cancel_only(cancel_data: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.row(_button(t("create.cancel"), cancel_data))
    return kb.as_markup()


# --- wallet ----------------------------------------------------------------------------


def wallet(balance: int, address: str | None) -> Screen:
    kb = InlineKeyboardBuilder()
    if address is None:
        text = t(
            "wallet.no_address", balance=format_sol(balance), reason=t("wallet.address_pending")
        )
    else:
        text = t("wallet.title", balance=format_sol(balance), address=address)
        kb.row(_button(t("wallet.qr"), WalletCb(action=Wallet.QR).pack()))
    kb.row(
        _button(t("wallet.history"), WalletCb(action=Wallet.HISTORY).pack()),
        _button(t("wallet.withdraw"), WalletCb(action=Wallet.WITHDRAW).pack()),
    )
    kb.row(_menu_button())
    return Screen(text, kb.as_markup())


def history_line_text(line: HistoryLine) -> str:
    room = line.room_id if line.room_id is not None else "?"
    what = t(f"kind.{line.kind.value}", room=room)
    if line.kind is EntryKind.SETTLEMENT and line.key.startswith("settle:"):
        what = t("kind.SETTLEMENT", room=room)
    sign = "+" if line.amount > 0 else ""
    return t(
        "wallet.history_line",
        date=f"{line.at:%m-%d %H:%M}",
        what=what,
        amount=f"{sign}{format_sol(line.amount)}",
    )


def history(balance: int, lines: Sequence[HistoryLine]) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("menu.wallet"), MenuCb(to=Menu.WALLET).pack()),
        _menu_button(),
    )
    body = [t("wallet.history_title", balance=format_sol(balance))]
    body.extend(history_line_text(line) for line in lines)
    if not lines:
        body.append(t("wallet.history_empty"))
    return Screen(clip("\n".join(body)), kb.as_markup())


def withdraw_confirmation(amount: int, address: str, settings: RoomsSettings, nonce: str) -> Screen:
    approval = ""
    if amount >= settings.withdrawal_approval_threshold:
        approval = t(
            "withdraw.needs_approval",
            threshold=format_sol(settings.withdrawal_approval_threshold),
            admins=settings.withdrawal_approvals_needed,
        )
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(
            t("withdraw.confirm_button", amount=format_sol(amount)),
            WithdrawConfirmCb(nonce=nonce).pack(),
        )
    )
    kb.row(_button(t("create.cancel"), WithdrawCancelCb().pack()))
    return Screen(
        t("withdraw.confirm", amount=format_sol(amount), address=address, approval=Html(approval)),
        kb.as_markup(),
    )


# --- referrals and my bets -------------------------------------------------------------


def referrals(stats: ReferralStats, bot_username: str, settings: RoomsSettings) -> Screen:
    link = f"https://t.me/{bot_username}?start={stats.code}"
    levels = " / ".join(f"{pct(bps)}%" for bps in settings.referral_level_bps)
    lines = [t("referrals.title", code=stats.code, link=link, levels=levels)]
    for level, count in enumerate(stats.referred_by_level, start=1):
        earned = stats.earnings_by_level.get(level, 0)
        lines.append(t("referrals.level", level=level, count=count, earned=format_sol(earned)))
    kb = InlineKeyboardBuilder()
    kb.row(_menu_button())
    return Screen("\n".join(lines), kb.as_markup())


def my_bets(views: Sequence[BetView]) -> Screen:
    lines = [t("my_bets.title")]
    if not views:
        lines.append(t("my_bets.empty"))
    for view in views:
        bet, room = view.bet, view.room
        common = {
            "room": room.id,
            "title": room.title[:50],
            "side": side_name(bet.side),
            "stake": format_sol(bet.stake),
        }
        if bet.status is BetStatus.ACTIVE and view.quote is not None:
            if view.quote.refund_only:
                lines.append(t("my_bets.open_refund", **common))
            else:
                lines.append(
                    t("my_bets.open", **common, payout=format_sol(view.quote.payout_if_win))
                )
        else:
            profit = view.profit or 0
            sign = "+" if profit > 0 else ""
            lines.append(
                t(
                    "my_bets.settled",
                    **common,
                    status=t(f"status.{bet.status.value}"),
                    profit=f"{sign}{format_sol(profit)}",
                )
            )
    kb = InlineKeyboardBuilder()
    kb.row(
        _button(t("menu.rooms"), MenuCb(to=Menu.ROOMS).pack()),
        _menu_button(),
    )
    return Screen(clip("\n\n".join(lines)), kb.as_markup())


# --- admin -------------------------------------------------------------------------------


def admin_menu(controls: PlatformControls) -> Screen:
    def state(paused: bool) -> str:
        return t("admin.paused") if paused else t("admin.running")

    kb = InlineKeyboardBuilder()
    kb.row(_button(t("admin.pending"), AdminCb(action=Admin.PENDING).pack()))
    if controls.betting_paused:
        kb.row(_button(t("admin.resume_betting"), AdminCb(action=Admin.RESUME_BETTING).pack()))
    else:
        kb.row(_button(t("admin.pause_betting"), AdminCb(action=Admin.PAUSE_BETTING).pack()))
    if controls.withdrawals_paused:
        kb.row(
            _button(t("admin.resume_withdrawals"), AdminCb(action=Admin.RESUME_WITHDRAWALS).pack())
        )
    else:
        kb.row(
            _button(t("admin.pause_withdrawals"), AdminCb(action=Admin.PAUSE_WITHDRAWALS).pack())
        )
    kb.row(
        _button(t("admin.stats"), AdminCb(action=Admin.STATS).pack()),
        _button(t("admin.solvency"), AdminCb(action=Admin.SOLVENCY).pack()),
    )
    return Screen(
        t(
            "admin.menu",
            betting=state(controls.betting_paused),
            withdrawals=state(controls.withdrawals_paused),
        ),
        kb.as_markup(),
    )


def _admin_back() -> InlineKeyboardButton:
    return _button("⬅️ Admin", AdminCb(action=Admin.MENU).pack())


def pending_withdrawals(pending: Sequence[Withdrawal], settings: RoomsSettings) -> Screen:
    kb = InlineKeyboardBuilder()
    lines: list[str] = []
    for w in pending:
        lines.append(
            t(
                "admin.pending_line",
                id=w.id,
                user=w.user_id,
                amount=format_sol(w.amount),
                address=w.destination,
                approvals=len(w.approvals),
                needed=settings.withdrawal_approvals_needed,
            )
        )
        kb.row(
            _button(
                t("admin.approve", id=w.id),
                AdminWithdrawalCb(withdrawal_id=w.id, approve=True).pack(),
            ),
            _button(
                t("admin.reject", id=w.id),
                AdminWithdrawalCb(withdrawal_id=w.id, approve=False).pack(),
            ),
        )
    if not lines:
        lines.append(t("admin.pending_empty"))
    kb.row(_admin_back())
    return Screen(clip("\n\n".join(lines)), kb.as_markup())


def stats(figures: PlatformStats) -> Screen:
    by_state = ", ".join(
        f"{t(f'state.{state.value}')} {count}"
        for state, count in sorted(figures.rooms_by_state.items())
    )
    kb = InlineKeyboardBuilder()
    kb.row(_admin_back())
    return Screen(
        t(
            "admin.stats_text",
            users=figures.users,
            rooms=figures.rooms,
            by_state=by_state or "—",
            bets=figures.bets,
            volume=format_sol(figures.volume),
            balances=format_sol(figures.user_balances),
            in_rooms=format_sol(figures.in_rooms),
            pending=format_sol(figures.pending_withdrawals),
            fees=format_sol(figures.protocol_fees),
            dust=format_sol(figures.protocol_dust),
            outbox=figures.notifications_waiting,
        ),
        kb.as_markup(),
    )


def solvency(report: SolvencyReport) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_admin_back())
    return Screen(
        t(
            "admin.solvency_text",
            verdict=t("admin.solvent") if report.solvent else t("admin.deficit"),
            held=format_sol(report.held),
            hot=format_sol(report.hot_wallet),
            deposits=format_sol(report.deposit_addresses),
            owed=format_sol(report.owed),
            balances=format_sol(report.user_balances),
            rooms=format_sol(report.in_rooms),
            pending=format_sol(report.pending_withdrawals),
            surplus=format_sol(report.surplus),
        ),
        kb.as_markup(),
    )


def admin_result(text: str) -> Screen:
    kb = InlineKeyboardBuilder()
    kb.row(_admin_back())
    return Screen(text, kb.as_markup())

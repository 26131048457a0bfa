"""Every text the bot shows, in one catalogue (ready for translation), and the one function
that fills a template: :func:`t`.

Templates are Telegram HTML. Parameters are HTML-escaped when filled in, so user-supplied
text (room titles, usernames, addresses) can never inject markup; a fragment the bot
rendered itself is passed as :class:`Html` to be inserted as it is.
"""

from __future__ import annotations

from dataclasses import fields
from enum import StrEnum
from html import escape

from rooms_core.errors import DomainError
from rooms_core.money import format_sol

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
TELEGRAM_ALERT_LIMIT = 200  # answerCallbackQuery text


class Html(str):
    """Markup the bot built itself (already escaped where needed)."""

    __slots__ = ()


CATALOGUE: dict[str, str] = {
    # --- start, menu, help -------------------------------------------------------------
    "start.welcome": (
        "<b>Welcome to ROOMS</b>, {name}!\n\n"
        "Bet SOL on YES or NO in prediction rooms about crypto prices. "
        "Winners share the whole pool, less a 3% fee.\n\n"
        "Your deposit address:\n<code>{address}</code>"
    ),
    "start.welcome_no_wallet": (
        "<b>Welcome to ROOMS</b>, {name}!\n\n"
        "Your deposit address is being prepared; open <b>Wallet</b> in a moment."
    ),
    "start.referred": "You joined through <b>{referrer}</b>'s invitation.",
    "start.bad_code": "That invitation code is not valid; you are registered without one.",
    "start.need": "Send /start to begin.",
    "menu.title": "<b>ROOMS</b> · balance <b>{balance} SOL</b>\nChoose what to do:",
    "menu.rooms": "🎯 Active rooms",
    "menu.create": "➕ Create room",
    "menu.wallet": "👛 Wallet",
    "menu.referrals": "🤝 Referrals",
    "menu.my_bets": "📋 My bets",
    "menu.help": "❓ Help",
    "menu.back": "⬅️ Menu",
    "help.text": (
        "<b>How ROOMS works</b>\n\n"
        "• A room asks a question about a price, e.g. <i>SOL ≥ 200 USD</i>.\n"
        "• You bet SOL on YES or NO; all bets on a side form its pool.\n"
        "• If the target is hit before the deadline, YES wins at once; otherwise the "
        "price at the deadline decides.\n"
        "• Winners share the whole pool in proportion to their stakes, less a "
        "{fee}% fee ({protocol}% protocol, {host}% to the room's host).\n"
        "• If nobody bet on the other side, everyone gets their stake back, with no fee.\n"
        "• Bets close at the lock time (¾ of the way to the deadline).\n\n"
        "/start · menu    /cancel · leave any form    /admin · operators"
    ),
    "cancel.done": "Cancelled.",
    "cancel.nothing": "Nothing to cancel.",
    "stale": "This button is out of date.",
    "throttled": "Slow down a little, please.",
    "unexpected": (
        "Something went wrong on our side. Nothing was lost; please try again.\n"
        "Reference: <code>{trace_id}</code>"
    ),
    "unknown_input": "I did not understand that. Use the buttons, or /start for the menu.",
    # --- rooms ----------------------------------------------------------------------------
    "rooms.title": "<b>Active rooms</b> · page {page}",
    "rooms.empty": "No active rooms right now. Create one!",
    "rooms.line": "<b>#{id}</b> {title}\n   {question} · {state} · pool {pool} SOL",
    "rooms.prev": "⬅️ Previous",
    "rooms.next": "Next ➡️",
    "room.card": (
        "<b>#{id} · {title}</b>\n"
        "{question}\n\n"
        "State: <b>{state}</b>\n"
        "{times}\n"
        "YES pool: <b>{yes_pool} SOL</b> ({yes_bets} bets) · pays {yes_multiple}\n"
        "NO pool: <b>{no_pool} SOL</b> ({no_bets} bets) · pays {no_multiple}\n"
        "Host: {host}"
    ),
    "room.no_multiple": "—",
    "room.multiple": "×{value}",
    "room.times_open": "Locks {lock_in} · settles {settle_in}",
    "room.times_locked": "Locked · settles {settle_in}",
    "room.times_settling": "Settling: waiting for the settlement price",
    "room.outcome": "Result: <b>{outcome}</b> at {value} ({sources})",
    "room.closed": "Closed: {reason}",
    "room.bet_yes": "✅ Bet YES {multiple}",
    "room.bet_no": "❌ Bet NO {multiple}",
    "room.refresh": "🔄 Refresh",
    "room.back": "⬅️ Rooms",
    "room.void": "🛑 Void (admin)",
    "state.QUEUING": "waiting for players",
    "state.OPEN": "open",
    "state.LOCKED": "locked",
    "state.SETTLING": "settling",
    "state.SETTLED": "settled",
    "state.CANCELLED": "cancelled",
    "state.VOID": "void",
    "time.in": "in {span}",
    "time.past": "now",
    # --- betting -----------------------------------------------------------------------
    "bet.choose_amount": (
        "<b>#{id} · {title}</b>\nYou bet <b>{side}</b>. How much?\n"
        "Balance: <b>{balance} SOL</b> · min {min} SOL, max {max} SOL"
    ),
    "bet.preset": "{amount} SOL",
    "bet.custom": "✏️ Other amount",
    "bet.ask_amount": (
        "Type the amount in SOL for <b>{side}</b> in room #{id} (e.g. <code>0.25</code>), "
        "or /cancel."
    ),
    "bet.bad_amount": "That is not an amount in SOL. Type a number such as <code>0.25</code>.",
    "bet.confirm": (
        "<b>Confirm your bet</b>\n"
        "Room #{id} · {title}\n"
        "{side} · <b>{stake} SOL</b>\n\n"
        "{projection}\n"
        "Fee: {fee_pct}% of the pool at settlement ({protocol_pct}% protocol, "
        "{host_pct}% host){fee_amount}.\n"
        "<i>Pools can still change before the room locks.</i>"
    ),
    "bet.projection_win": (
        "If {side} wins at the current pools you get <b>{payout} SOL</b> (profit {profit} SOL)."
    ),
    "bet.projection_refund": (
        "Nobody is on the other side yet: as things stand your stake would be refunded."
    ),
    "bet.fee_amount": ", now {fee} SOL",
    "bet.confirm_button": "✅ Confirm {stake} SOL on {side}",
    "bet.cancel_button": "✖️ Cancel",
    "bet.placed": (
        "✅ <b>Bet placed</b>: {stake} SOL on {side} in room #{id}.\nBalance: {balance} SOL"
    ),
    "bet.cancelled": "Bet cancelled.",
    # --- create room ---------------------------------------------------------------------
    "create.kind": "<b>Create a room</b> · step 1/6\nWhat is it about?",
    "create.kind_coin": "🪙 Coin price",
    "create.kind_token": "🚀 pump.fun market cap",
    "create.ask_symbol": "Step 2/6 · Which coin? Send its symbol, e.g. <code>SOL</code>.",
    "create.ask_mint": "Step 2/6 · Send the pump.fun token's mint address.",
    "create.asset_ok": "{asset} now: <b>{price}</b>.",
    "create.asset_ok_no_price": "{asset} can be priced by the oracle.",
    "create.ask_title": (
        "Step 3/6 · Send the question's title ({min}-{max} characters), "
        "e.g. <i>Will SOL pump today?</i>"
    ),
    "create.ask_comparator": "Step 4/6 · YES wins if {asset} is…",
    "create.gte": "≥ at or above",
    "create.lte": "≤ at or below",
    "create.ask_target": "Step 5/6 · The target {unit} (a number, e.g. <code>{example}</code>).",
    "create.bad_target": "That is not a number. Send a target such as <code>{example}</code>.",
    "create.ask_duration": "Step 6/6 · When does it settle?",
    "create.duration_custom": "✏️ Custom",
    "create.ask_custom_duration": (
        "Send the time to settlement, e.g. <code>90m</code>, <code>3h</code> or "
        "<code>1h30m</code> (15 minutes to 24 hours)."
    ),
    "create.bad_duration": (
        "I could not read that duration. Examples: <code>45m</code>, <code>2h</code>, "
        "<code>1h30m</code>."
    ),
    "create.review": (
        "<b>Review your room</b>\n"
        "Title: {title}\n"
        "Question: {question}\n"
        "Settles: {settle_at} ({settle_in}); bets lock {lock_in}\n\n"
        "As the host you earn <b>{host_pct}%</b> of the pool when it settles "
        "(no fee is taken if nobody bets against the winners)."
    ),
    "create.confirm": "🚀 Create",
    "create.cancel": "✖️ Cancel",
    "create.done": "🎉 Room <b>#{id}</b> is live: {title}",
    "create.again_button": "✏️ Start over",
    "create.expired": "This form has expired. Start again with ➕ Create room.",
    "unit.price": "in USD",
    "unit.market_cap": "market cap in USD",
    # --- wallet --------------------------------------------------------------------------
    "wallet.title": (
        "<b>Wallet</b>\nBalance: <b>{balance} SOL</b>\n\n"
        "Deposit SOL to your address:\n<code>{address}</code>\n"
        "Deposits are credited after confirmation on chain."
    ),
    "wallet.no_address": "<b>Wallet</b>\nBalance: <b>{balance} SOL</b>\n\n{reason}",
    "wallet.address_pending": "Your deposit address is not ready yet; try again in a minute.",
    "wallet.qr": "📷 QR code",
    "wallet.history": "🧾 History",
    "wallet.withdraw": "📤 Withdraw",
    "wallet.qr_caption": "Your ROOMS deposit address:\n<code>{address}</code>",
    "wallet.history_title": "<b>Recent activity</b> · balance {balance} SOL",
    "wallet.history_empty": "No activity yet.",
    "wallet.history_line": "{date} · {what} · <b>{amount} SOL</b>",
    "kind.DEPOSIT": "deposit",
    "kind.BET": "bet in room #{room}",
    "kind.SETTLEMENT": "result of room #{room}",
    "kind.REFUND": "refund",
    "kind.WITHDRAWAL_RESERVE": "withdrawal",
    "kind.WITHDRAWAL_COMPLETE": "withdrawal sent",
    "kind.WITHDRAWAL_RELEASE": "withdrawal returned",
    "withdraw.ask_address": (
        "<b>Withdraw</b> · balance {balance} SOL\nSend the Solana address to pay to, or /cancel."
    ),
    "withdraw.ask_amount": (
        "To <code>{address}</code>\nHow much SOL? (min {min}, balance {balance}) "
        "Send a number or <code>all</code>."
    ),
    "withdraw.confirm": (
        "<b>Confirm the withdrawal</b>\n<b>{amount} SOL</b> to <code>{address}</code>{approval}"
    ),
    "withdraw.needs_approval": (
        "\n\nAmounts of {threshold} SOL or more need approval by {admins} admins before "
        "they are sent."
    ),
    "withdraw.confirm_button": "📤 Withdraw {amount} SOL",
    "withdraw.requested": (
        "📤 Withdrawal <b>#{id}</b> of {amount} SOL requested. You will be told when it is sent."
    ),
    "withdraw.requested_approval": (
        "⏳ Withdrawal <b>#{id}</b> of {amount} SOL waits for admin approval. "
        "The amount is reserved meanwhile."
    ),
    "withdraw.cancelled": "Withdrawal cancelled.",
    # --- referrals and my bets ---------------------------------------------------------
    "referrals.title": (
        "<b>Referrals</b>\nYour code: <code>{code}</code>\nShare: {link}\n\n"
        "You earn {levels} of the fee of every settled bet of the people you invite "
        "(and of theirs, three levels deep)."
    ),
    "referrals.level": "Level {level}: {count} people · earned {earned} SOL",
    "my_bets.title": "<b>My bets</b>",
    "my_bets.empty": "No bets yet. Open 🎯 Active rooms to place one.",
    "my_bets.open": "#{room} {title}\n   {side} {stake} SOL · open · if it wins: {payout} SOL",
    "my_bets.open_refund": "#{room} {title}\n   {side} {stake} SOL · open · no opposition yet",
    "my_bets.settled": "#{room} {title}\n   {side} {stake} SOL · {status} · {profit} SOL",
    "status.WON": "won",
    "status.LOST": "lost",
    "status.REFUNDED": "refunded",
    # --- notifications (from the outbox) -----------------------------------------------
    "note.BET_CONFIRMED": "✅ Bet confirmed: {stake} SOL on {side} in room #{room_id}.",
    "note.ROOM_OPENED": "Room #{room_id} is open for bets.",
    "note.ROOM_LOCKED": "🔒 Room #{room_id} is locked: no more bets, waiting for the result.",
    "note.BET_WON": (
        "🏆 You won in room #{room_id}: <b>{payout} SOL</b> paid out (profit {profit} SOL)."
    ),
    "note.BET_LOST": "Room #{room_id} settled against you: your {stake} SOL bet is lost.",
    "note.BET_REFUNDED": "↩️ Your {stake} SOL bet in room #{room_id} was refunded: {reason}.",
    "note.DEPOSIT_CREDITED": "💰 Deposit credited: <b>{amount} SOL</b>.",
    "note.WITHDRAWAL_SENT": (
        "📤 Withdrawal of {amount} SOL sent. Signature: <code>{signature}</code>"
    ),
    "note.WITHDRAWAL_FAILED": (
        "⚠️ Withdrawal of {amount} SOL was not sent ({reason}); it is back in your balance."
    ),
    "note.REFERRAL_REWARD": "🤝 Referral reward: {amount} SOL from room #{room_id}.",
    "note.ADMIN_ALERT": "🚨 Admin alert: {text}",
    "refund.LATE_BET": "placed after the target was hit",
    "refund.NO_OPPOSITION": "nobody bet on the other side",
    "refund.CANCELLED": "the room was cancelled",
    "refund.VOID": "the room was voided",
    # --- admin ---------------------------------------------------------------------------
    "admin.not_allowed": "Not allowed.",
    "admin.menu": (
        "<b>Admin</b>\nBetting: <b>{betting}</b> · withdrawals: <b>{withdrawals}</b>\n"
        "Void a room: <code>/void ROOM_ID reason</code>"
    ),
    "admin.running": "running",
    "admin.paused": "PAUSED",
    "admin.pending": "⏳ Withdrawals to approve",
    "admin.pause_betting": "⏸ Pause betting",
    "admin.resume_betting": "▶️ Resume betting",
    "admin.pause_withdrawals": "⏸ Pause withdrawals",
    "admin.resume_withdrawals": "▶️ Resume withdrawals",
    "admin.stats": "📊 Stats",
    "admin.solvency": "🏦 Solvency",
    "admin.pending_empty": "No withdrawal waits for approval.",
    "admin.pending_line": (
        "<b>#{id}</b> user {user} · <b>{amount} SOL</b> to <code>{address}</code> · "
        "approvals {approvals}/{needed}"
    ),
    "admin.approve": "✅ Approve #{id}",
    "admin.reject": "✖️ Reject #{id}",
    "admin.approved": "Withdrawal #{id} approved: it will be sent.",
    "admin.approval_recorded": "Withdrawal #{id}: your approval is recorded ({count} of {needed}).",
    "admin.rejected": "Withdrawal #{id} rejected; the amount went back to the user.",
    "admin.controls_set": "Done. Betting {betting}, withdrawals {withdrawals}.",
    "admin.void_usage": "Usage: <code>/void ROOM_ID reason</code>",
    "admin.voided": "Room #{id} voided; {refunded} SOL refunded to {bets} bets.",
    "admin.stats_text": (
        "<b>Platform</b>\nUsers: {users}\nRooms: {rooms} ({by_state})\n"
        "Bets: {bets} · volume {volume} SOL\nUser balances: {balances} SOL\n"
        "In open rooms: {in_rooms} SOL\nPending withdrawals: {pending} SOL\n"
        "Protocol fees kept: {fees} SOL · dust {dust} SOL\nNotifications waiting: {outbox}"
    ),
    "admin.solvency_text": (
        "<b>Solvency</b> {verdict}\nHeld on chain: {held} SOL (hot wallet {hot}, deposit "
        "addresses {deposits})\nOwed: {owed} SOL (balances {balances}, rooms {rooms}, "
        "withdrawals {pending})\nSurplus: <b>{surplus} SOL</b>"
    ),
    "admin.solvent": "✅",
    "admin.deficit": "🚨 DEFICIT: withdrawals are paused",
    # --- domain errors, by class name (lamport fields are shown in SOL) ------------------
    "error.UserNotFound": "You are not registered yet. Send /start first.",
    "error.UnknownReferralCode": "That invitation code does not exist.",
    "error.SelfReferral": "You cannot invite yourself.",
    "error.ReferralCycle": "That invitation would make a circle of referrals.",
    "error.ReferrerAlreadySet": "Your referrer is already set and cannot change.",
    "error.RoomNotFound": "That room does not exist.",
    "error.TitleLength": (
        "The title must be {minimum}-{maximum} characters long; yours has {length}."
    ),
    "error.NonPositiveTarget": "The target must be a positive number.",
    "error.TargetOutOfRange": (
        "That target is out of range: at most {maximum} with at most 18 decimals."
    ),
    "error.SettleTimeOutOfRange": (
        "The room must settle between 15 minutes and 24 hours from now."
    ),
    "error.InvalidMintAddress": "That is not a valid Solana token mint address.",
    "error.InvalidSymbol": "A coin symbol is 2-10 letters or digits, such as <code>SOL</code>.",
    "error.AssetNotPriceable": "{asset} cannot be priced by the oracle ({reason}).",
    "error.NotPriceableYet": (
        "{asset} is too new to be priced yet (no exchange lists it). Try again in a minute."
    ),
    "error.IllegalTransition": "That room cannot do that in its current state.",
    "error.NotDue": "Nothing is due in that room yet.",
    "error.RoomClosedForBets": "Betting is closed in this room.",
    "error.RoomLocked": "This room is locked: no new bets.",
    "error.AlreadyBet": "You already have a bet in this room (one bet per room).",
    "error.StakeBelowMinimum": "The minimum bet is {minimum} SOL.",
    "error.StakeAboveMaximum": "The maximum bet is {maximum} SOL.",
    "error.InsufficientBalance": (
        "Insufficient balance: you need {needed} SOL and have {available} SOL. "
        "Deposit in 👛 Wallet."
    ),
    "error.BettingPaused": "Betting is paused by the operators for a moment. Try again later.",
    "error.AlreadySettled": "That room is already finished.",
    "error.SettlementInProgress": "That room is being settled right now.",
    "error.InsufficientFunds": "Insufficient funds.",
    "error.NonPositiveAmount": "The amount must be more than zero.",
    "error.UnknownDepositAddress": "That is not a ROOMS deposit address.",
    "error.WithdrawalNotFound": "That withdrawal does not exist.",
    "error.InvalidWithdrawalAddress": "That address cannot receive a withdrawal: {reason}.",
    "error.WithdrawalBelowMinimum": "The minimum withdrawal is {minimum} SOL.",
    "error.WithdrawalStateConflict": "Withdrawal #{withdrawal_id} is already {state_text}.",
    "error.WithdrawalsPaused": (
        "Withdrawals are paused by the operators for a moment. Your balance is safe."
    ),
    "error.NotAllowed": "Not allowed.",
    "error.CustodyNotConfigured": (
        "Custody is not configured in this bot process: there is no chain to measure."
    ),
    "error.IdempotencyConflict": "That request was already used for something else.",
    "error.SourceError": "A price source failed: {reason}.",
    "error.NoConsensus": "No agreed price for {asset} right now ({agreeing}/{needed} sources).",
    "error.ChainError": "The Solana network could not be reached. Try again later.",
    "error.SignerError": "The wallet service is unavailable. Try again later.",
    "error.SendFailed": "The message could not be sent.",
}

# Fields that hold lamports (shown as SOL): of notifications' payloads, and of the domain
# errors that carry money (other errors' "minimum" is a length, say).
LAMPORT_FIELDS = frozenset({"needed", "available", "minimum", "maximum", "stake", "amount"})
MONEY_ERRORS = frozenset(
    {
        "StakeBelowMinimum",
        "StakeAboveMaximum",
        "InsufficientBalance",
        "InsufficientFunds",
        "WithdrawalBelowMinimum",
        "NonPositiveAmount",
    }
)


def t(key: str, /, **params: object) -> str:
    """The catalogue's text for ``key`` with ``params`` filled in (strings HTML-escaped,
    :class:`Html` inserted as it is)."""
    template = CATALOGUE[key]
    if not params:
        return template
    return template.format(
        **{
            name: value
            if isinstance(value, Html) or not isinstance(value, str)
            else escape(value, quote=False)
            for name, value in params.items()
        }
    )


def error_text(error: DomainError) -> str:
    """The user's message for a domain error: its catalogue entry filled with the error's
    fields (lamports as SOL), or, for an error without one, the core's own message."""
    key = f"error.{type(error).__name__}"
    if key not in CATALOGUE:
        return escape(error.message, quote=False)
    params: dict[str, object] = {}
    money = type(error).__name__ in MONEY_ERRORS
    for field in fields(error):
        value = getattr(error, field.name)
        if money and field.name in LAMPORT_FIELDS and isinstance(value, int):
            params[field.name] = format_sol(value)
        elif isinstance(value, StrEnum):
            params[field.name] = value.value
        else:
            params[field.name] = value if isinstance(value, int) else str(value)
    if "state" in params:
        params["state_text"] = str(params["state"]).lower().replace("_", " ")
    return t(key, **params)


def clip(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Keep a message within Telegram's limit (cutting at a line break where possible)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1] + "…"

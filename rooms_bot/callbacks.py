"""The payload of every button: one ``CallbackData`` factory per kind of button.

Telegram allows 64 bytes of callback data; prefixes are one or two letters, and the widest
payload (a bet confirmation with the largest room id, stake and a nonce) stays well inside
it (tested). Values never contain ``:``, aiogram's separator.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from rooms_core.models import Side


class Menu(StrEnum):
    HOME = "h"
    ROOMS = "r"
    CREATE = "c"
    WALLET = "w"
    REFERRALS = "f"
    MY_BETS = "b"
    HELP = "?"


class MenuCb(CallbackData, prefix="m"):
    to: Menu


class RoomsPageCb(CallbackData, prefix="rp"):
    page: int


class RoomCb(CallbackData, prefix="r"):
    room_id: int


class BetSideCb(CallbackData, prefix="bs"):
    room_id: int
    side: Side


class BetAmountCb(CallbackData, prefix="ba"):
    """A preset stake in lamports, or 0 for "another amount" (typed)."""

    room_id: int
    side: Side
    lamports: int


class BetConfirmCb(CallbackData, prefix="bc"):
    """The confirmed bet; ``nonce`` is its idempotency key (a double press places one)."""

    room_id: int
    side: Side
    lamports: int
    nonce: str


class BetCancelCb(CallbackData, prefix="bx"):
    room_id: int


class CreateKindCb(CallbackData, prefix="ck"):
    token: bool  # False: a coin's price; True: a pump.fun token's market cap


class CreateComparatorCb(CallbackData, prefix="cc"):
    at_least: bool  # True: >=, False: <=


class CreateDurationCb(CallbackData, prefix="cd"):
    minutes: int  # 0: custom (typed)


class CreateConfirmCb(CallbackData, prefix="cy"):
    nonce: str


class CreateCancelCb(CallbackData, prefix="cn"):
    pass


class Wallet(StrEnum):
    QR = "q"
    HISTORY = "h"
    WITHDRAW = "w"


class WalletCb(CallbackData, prefix="w"):
    action: Wallet


class WithdrawConfirmCb(CallbackData, prefix="wc"):
    nonce: str


class WithdrawCancelCb(CallbackData, prefix="wx"):
    pass


class Admin(StrEnum):
    MENU = "m"
    PENDING = "p"
    PAUSE_BETTING = "pb"
    RESUME_BETTING = "rb"
    PAUSE_WITHDRAWALS = "pw"
    RESUME_WITHDRAWALS = "rw"
    STATS = "s"
    SOLVENCY = "v"


class AdminCb(CallbackData, prefix="a"):
    action: Admin


class AdminWithdrawalCb(CallbackData, prefix="aw"):
    withdrawal_id: int
    approve: bool

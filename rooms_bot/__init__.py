"""Telegram bot (aiogram 3): handlers, keyboards, FSM flows, middlewares."""

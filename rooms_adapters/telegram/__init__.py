"""Telegram: the messenger port over the Bot API (the bot's handlers live in rooms_bot)."""

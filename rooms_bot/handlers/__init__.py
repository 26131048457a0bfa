"""One router per feature; :func:`rooms_bot.app.build_dispatcher` includes them in order."""

"""Structured logs for every ROOMS process (the bot, the web API, the worker): structlog
over the standard library's logging, one JSON object a line (or readable lines for a
terminal), a trace id per request or update, and secrets scrubbed from every line.

    configure_logging(json=True, level="INFO", secrets=[bot_token])
    with traced():                      # a bot update, a job: a fresh trace id
        log.info("bet placed", room_id=3)

Lines logged through ``logging.getLogger(...)`` (the existing modules) go through the same
processors, so they carry the trace id and are scrubbed too.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

TRACE_ID_KEY = "trace_id"
REDACTED = "[redacted]"

trace_id_var: ContextVar[str | None] = ContextVar("rooms_trace_id", default=None)

# Keys whose values are never logged, whatever they hold.
_SECRET_KEYS = re.compile(
    r"(token|secret|password|passwd|private|api_key|authorization|init_data|initdata|"
    r"hash|signature_key|master_key|seed)",
    re.IGNORECASE,
)
# Secrets that may hide inside free text: a Telegram bot token, an initData hash or a whole
# initData string, an "Authorization: tma ..." value, a password in a database URL.
_SECRET_PATTERNS = (
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), REDACTED),  # a bot token
    (re.compile(r"\bhash=[0-9a-fA-F]{64}"), f"hash={REDACTED}"),
    (re.compile(r"\btma\s+\S+"), f"tma {REDACTED}"),
    (re.compile(r"tgWebAppData=[^\s#]+"), f"tgWebAppData={REDACTED}"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), rf"\1{REDACTED}@"),
)


class SecretScrubber:
    """A structlog processor that replaces secrets in every event: values of secret-looking
    keys, the known secret values given (and added later with :meth:`add`), and patterns of
    secrets inside any string."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        # Very short values would scrub ordinary words; nothing that short is a secret here.
        if secret and len(secret) >= 8 and secret not in self._secrets:
            self._secrets.append(secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: REDACTED if _secret_key(k) else self._value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._value(v) for v in value)
        if isinstance(value, BaseException):
            return self.scrub(f"{type(value).__name__}: {value}")
        return value

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        event.pop("color_message", None)  # uvicorn's copy of the message with ANSI colours
        for key, value in list(event.items()):
            event[key] = REDACTED if _secret_key(key) else self._value(value)
        return event


def _secret_key(key: object) -> bool:
    return isinstance(key, str) and key != TRACE_ID_KEY and bool(_SECRET_KEYS.search(key))


def _scrub_rendered(scrubber: SecretScrubber) -> Processor:
    """The last word: scrub the rendered line itself (exception tracebacks included)."""

    def scrub(logger: WrappedLogger, method: str, event: EventDict | str) -> Any:
        return scrubber.scrub(event) if isinstance(event, str) else event

    return scrub


def configure_logging(
    json: bool,
    level: int | str = "INFO",
    *,
    secrets: Sequence[str] = (),
    stream: TextIO | None = None,
) -> SecretScrubber:
    """Send every log line (structlog and standard logging) to ``stream`` (stderr) as JSON
    (``json=True``) or readable text, at ``level`` and above, with the trace id bound in
    this context and every secret scrubbed. Returns the scrubber, to add secrets learnt
    later (:meth:`SecretScrubber.add`). Call once per process, at start."""
    scrubber = SecretScrubber(secrets)
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrubber,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared[:1],
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            *shared[1:],
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
            _scrub_rendered(scrubber),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Access lines would repeat each request; the API logs its own line per request.
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return scrubber


def new_trace_id() -> str:
    """A fresh, random trace id (16 hex characters)."""
    return uuid.uuid4().hex[:16]


def bind_trace_id(trace_id: str | None = None) -> str:
    """Bind a trace id (a new one unless given) to this context: every line logged from
    here, in this task and the tasks it starts, carries it. Returns it."""
    value = trace_id or new_trace_id()
    trace_id_var.set(value)
    structlog.contextvars.bind_contextvars(**{TRACE_ID_KEY: value})
    return value


def current_trace_id() -> str | None:
    """The trace id bound to this context, or None."""
    return trace_id_var.get()


def clear_trace_id() -> None:
    trace_id_var.set(None)
    structlog.contextvars.unbind_contextvars(TRACE_ID_KEY)


@contextmanager
def traced(trace_id: str | None = None) -> Iterator[str]:
    """A block with its own trace id (the bot wraps each update in one); the previous id,
    if any, is restored after."""
    previous = trace_id_var.get()
    token = trace_id_var.set(None)
    try:
        yield bind_trace_id(trace_id)
    finally:
        trace_id_var.reset(token)
        if previous is None:
            structlog.contextvars.unbind_contextvars(TRACE_ID_KEY)
        else:
            structlog.contextvars.bind_contextvars(**{TRACE_ID_KEY: previous})


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named ``name`` (``rooms.api``, ``rooms.bot``, ...)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


__all__ = [
    "SecretScrubber",
    "bind_trace_id",
    "clear_trace_id",
    "configure_logging",
    "current_trace_id",
    "get_logger",
    "new_trace_id",
    "traced",
]

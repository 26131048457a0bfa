"""The production store: every storage port on PostgreSQL through asyncpg.

``PostgresStore`` owns the connection pool; ``store.uow()`` makes a unit of work (one
transaction). Schema changes are the SQL files in ``migrations/``, applied by
:func:`rooms_adapters.postgres.migrate.migrate` (``rooms db migrate``).
"""

-- Notifications the dispatcher stopped trying (the user blocked the bot, too many failed
-- attempts) are kept with their error but are no longer pending.
ALTER TABLE outbox ADD COLUMN gave_up_at timestamptz;
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL AND gave_up_at IS NULL;

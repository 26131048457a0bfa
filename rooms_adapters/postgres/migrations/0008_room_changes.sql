-- Live views in other processes (the web API's WebSocket) learn which rooms changed: every
-- statement that inserts or updates rooms announces their ids on the channel rooms_changed,
-- comma-separated, one notification per statement. PostgreSQL delivers a notification only
-- when its transaction commits (never for a rolled-back one), in commit order. A statement
-- touching too many rooms for one payload (8000 bytes) announces '*': reload everything.
CREATE FUNCTION notify_rooms_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
BEGIN
    SELECT string_agg(DISTINCT id::text, ',') INTO ids FROM changed_rooms;
    IF ids IS NOT NULL THEN
        PERFORM pg_notify('rooms_changed', CASE WHEN length(ids) > 7000 THEN '*' ELSE ids END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER rooms_changed_on_insert AFTER INSERT ON rooms
    REFERENCING NEW TABLE AS changed_rooms
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rooms_changed();
CREATE TRIGGER rooms_changed_on_update AFTER UPDATE ON rooms
    REFERENCING NEW TABLE AS changed_rooms
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rooms_changed();

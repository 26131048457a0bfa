-- A bet reads its room and the bettor's balance without row locks, outside a transaction,
-- and writes everything in one statement that re-checks what it read (the room still takes
-- bets, the balance still covers the stake): two round trips a bet instead of four. When a
-- re-check fails the statement calls this function, which aborts it as a serialization
-- failure: nothing of it is written and the caller repeats the unit of work
-- (rooms_core.services.retry.retrying), which then sees the rows as they are.
CREATE FUNCTION rooms_rows_unchanged(unchanged boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF unchanged IS NOT TRUE THEN
        RAISE EXCEPTION 'rows read without a lock changed before the write'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN true;
END
$$;

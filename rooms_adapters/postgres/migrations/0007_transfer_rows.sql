-- A two-party transfer (a stake, a deposit, a withdrawal, a fee: most journal entries) is
-- kept as one journal row: the amount moves from one account to the other, so it sums to
-- zero by construction and needs neither posting rows nor the postings_balanced trigger.
-- Entries of more than two postings (settlements) keep their postings as before; an entry
-- is one or the other, never both (the unit of work writes either). Existing entries are
-- not rewritten (migrations never edit history).
ALTER TABLE journal_entries
    ADD COLUMN from_account text REFERENCES accounts (name),
    ADD COLUMN to_account   text REFERENCES accounts (name),
    ADD COLUMN amount       bigint,
    ADD CONSTRAINT journal_entries_transfer_whole CHECK (
        (from_account IS NULL) = (to_account IS NULL)
        AND (from_account IS NULL) = (amount IS NULL)),
    ADD CONSTRAINT journal_entries_transfer_moves_money CHECK (
        amount > 0 AND from_account <> to_account);
-- An account's history (entries_for) reads transfers by either side.
CREATE INDEX journal_entries_from_idx ON journal_entries (from_account, id)
    WHERE from_account IS NOT NULL;
CREATE INDEX journal_entries_to_idx ON journal_entries (to_account, id)
    WHERE to_account IS NOT NULL;
-- ledger_post (entries posted at once, not with the flush) writes transfers the same way.
CREATE OR REPLACE FUNCTION ledger_post(
    p_key text, p_kind text, p_at timestamptz, p_memo text,
    p_accounts text[], p_amounts bigint[], p_may_go_negative boolean[],
    OUT status text, OUT short_account text, OUT available bigint
) LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
    is_transfer boolean := cardinality(p_accounts) = 2 AND p_amounts[1] < 0
        AND p_amounts[2] = -p_amounts[1] AND p_accounts[1] <> p_accounts[2];
BEGIN
    IF EXISTS (SELECT 1 FROM journal_entries WHERE key = p_key) THEN
        status := 'replay';
        RETURN;
    END IF;
    INSERT INTO accounts (name, may_go_negative)
        SELECT DISTINCT l.account, l.mgn
        FROM unnest(p_accounts, p_may_go_negative) AS l (account, mgn)
        ORDER BY l.account
        ON CONFLICT (name) DO NOTHING;
    SELECT n.account, a.balance INTO short_account, available
    FROM (SELECT l.account, sum(l.amount) AS delta
          FROM unnest(p_accounts, p_amounts) AS l (account, amount)
          GROUP BY l.account) AS n
    JOIN (SELECT name, balance, may_go_negative FROM accounts
          WHERE name = ANY (p_accounts) ORDER BY name FOR UPDATE) AS a ON a.name = n.account
    WHERE NOT a.may_go_negative AND a.balance + n.delta < 0
    ORDER BY n.account
    LIMIT 1;
    IF short_account IS NOT NULL THEN
        status := 'insufficient';
        RETURN;
    END IF;
    IF is_transfer THEN
        INSERT INTO journal_entries (key, kind, at, memo, from_account, to_account, amount)
            VALUES (p_key, p_kind, p_at, p_memo, p_accounts[1], p_accounts[2], p_amounts[2])
            ON CONFLICT (key) DO NOTHING
            RETURNING id INTO new_id;
    ELSE
        INSERT INTO journal_entries (key, kind, at, memo) VALUES (p_key, p_kind, p_at, p_memo)
            ON CONFLICT (key) DO NOTHING
            RETURNING id INTO new_id;
    END IF;
    IF new_id IS NULL THEN  -- a concurrent transaction posted the same key first
        status := 'replay';
        RETURN;
    END IF;
    IF NOT is_transfer THEN
        INSERT INTO postings (entry_id, line, account, amount)
            SELECT new_id, l.line, l.account, l.amount
            FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l (account, amount, line);
    END IF;
    UPDATE accounts AS a SET balance = a.balance + n.delta
        FROM (SELECT l.account, sum(l.amount) AS delta
              FROM unnest(p_accounts, p_amounts) AS l (account, amount)
              GROUP BY l.account) AS n
        WHERE a.name = n.account AND n.delta <> 0;
    status := 'applied';
END $$;

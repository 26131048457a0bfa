-- ROOMS schema, version 1. Money is BIGINT lamports everywhere. The database enforces what
-- must never break even if the code had a bug: no negative user balance, one bet per user and
-- room, a deposit credited once, unique idempotency keys, balanced journal entries, immutable
-- postings, and foreign keys between everything.

CREATE SEQUENCE users_id_seq;
CREATE SEQUENCE rooms_id_seq;
CREATE SEQUENCE bets_id_seq;
CREATE SEQUENCE outbox_id_seq;
CREATE SEQUENCE withdrawals_id_seq;

CREATE TABLE users (
    id              bigint PRIMARY KEY,
    telegram_id     bigint UNIQUE,
    username        text,
    referral_code   text NOT NULL UNIQUE,
    referrer_id     bigint REFERENCES users (id),
    deposit_address text UNIQUE,
    created_at      timestamptz NOT NULL,
    CONSTRAINT users_not_own_referrer CHECK (referrer_id IS DISTINCT FROM id)
);
CREATE INDEX users_referrer_idx ON users (referrer_id) WHERE referrer_id IS NOT NULL;

CREATE TABLE rooms (
    id                 bigint PRIMARY KEY,
    host_id            bigint NOT NULL REFERENCES users (id),
    title              text NOT NULL,
    asset_kind         text NOT NULL,
    asset_id           text NOT NULL,
    asset_metric       text NOT NULL,
    comparator         text NOT NULL,
    target             numeric NOT NULL,
    created_at         timestamptz NOT NULL,
    lock_at            timestamptz NOT NULL,
    settle_at          timestamptz NOT NULL,
    min_players        integer NOT NULL,
    quorum             integer NOT NULL,
    protocol_fee_bps   integer NOT NULL CHECK (protocol_fee_bps BETWEEN 0 AND 10000),
    host_fee_bps       integer NOT NULL CHECK (host_fee_bps BETWEEN 0 AND 10000),
    state              text NOT NULL CHECK (
        state IN ('QUEUING', 'OPEN', 'LOCKED', 'SETTLING', 'SETTLED', 'CANCELLED', 'VOID')),
    yes_pool           bigint NOT NULL CHECK (yes_pool >= 0),
    no_pool            bigint NOT NULL CHECK (no_pool >= 0),
    yes_bets           integer NOT NULL CHECK (yes_bets >= 0),
    no_bets            integer NOT NULL CHECK (no_bets >= 0),
    opened_at          timestamptz,
    settling_since     timestamptz,
    trigger_at         timestamptz,
    outcome            text CHECK (outcome IN ('YES', 'NO')),
    settlement_value   numeric,
    settlement_sources text[] NOT NULL,
    closed_at          timestamptz,
    close_reason       text,
    CONSTRAINT rooms_lock_before_settle CHECK (lock_at <= settle_at),
    CONSTRAINT rooms_settled_has_outcome CHECK ((state = 'SETTLED') = (outcome IS NOT NULL))
);
-- The job scanners' index: only rooms that can still move.
CREATE INDEX rooms_active_idx ON rooms (id)
    WHERE state IN ('QUEUING', 'OPEN', 'LOCKED', 'SETTLING');
CREATE INDEX rooms_state_idx ON rooms (state, id);

CREATE TABLE bets (
    id              bigint PRIMARY KEY,
    room_id         bigint NOT NULL REFERENCES rooms (id),
    user_id         bigint NOT NULL REFERENCES users (id),
    side            text NOT NULL CHECK (side IN ('YES', 'NO')),
    stake           bigint NOT NULL CHECK (stake > 0),
    placed_at       timestamptz NOT NULL,
    idempotency_key text NOT NULL,
    status          text NOT NULL CHECK (status IN ('ACTIVE', 'WON', 'LOST', 'REFUNDED')),
    payout          bigint NOT NULL CHECK (payout >= 0),
    refund_reason   text,
    -- Also the index a room's bets are read by (settlement).
    CONSTRAINT bets_one_per_user_and_room UNIQUE (room_id, user_id)
);
CREATE INDEX bets_user_idx ON bets (user_id, id);

-- The ledger: accounts hold cached balances, entries and postings are the history.
CREATE TABLE accounts (
    name            text PRIMARY KEY,
    balance         bigint NOT NULL DEFAULT 0,
    may_go_negative boolean NOT NULL,
    CONSTRAINT accounts_balance_never_negative CHECK (may_go_negative OR balance >= 0)
);

CREATE TABLE journal_entries (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key  text NOT NULL UNIQUE,
    kind text NOT NULL,
    at   timestamptz NOT NULL,
    memo text NOT NULL DEFAULT ''
);

CREATE TABLE postings (
    entry_id bigint NOT NULL REFERENCES journal_entries (id),
    line     integer NOT NULL,
    account  text NOT NULL REFERENCES accounts (name),
    amount   bigint NOT NULL,
    PRIMARY KEY (entry_id, line)
);
CREATE INDEX postings_account_idx ON postings (account, entry_id);

-- Every entry inserted by a statement must sum to zero (checked once per statement over
-- the statement's new rows, so a 10,000-line settlement costs one aggregate, not 10,000).
CREATE FUNCTION postings_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT entry_id INTO bad FROM new_postings GROUP BY entry_id HAVING sum(amount) <> 0 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero', bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION postings_balanced();

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();

-- Post one balanced entry, all or nothing, in one round trip. Accounts are created on first
-- use and locked in name order (RULES 8: a fixed order, so two posts never deadlock).
-- Returns status 'applied', 'replay' (the key exists: nothing changes) or 'insufficient'
-- (with the first account that would go below zero and what it holds: nothing changes).
CREATE FUNCTION ledger_post(
    p_key text, p_kind text, p_at timestamptz, p_memo text,
    p_accounts text[], p_amounts bigint[], p_may_go_negative boolean[],
    OUT status text, OUT short_account text, OUT available bigint
) LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
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
    INSERT INTO journal_entries (key, kind, at, memo) VALUES (p_key, p_kind, p_at, p_memo)
        ON CONFLICT (key) DO NOTHING
        RETURNING id INTO new_id;
    IF new_id IS NULL THEN  -- a concurrent transaction posted the same key first
        status := 'replay';
        RETURN;
    END IF;
    INSERT INTO postings (entry_id, line, account, amount)
        SELECT new_id, l.line, l.account, l.amount
        FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l (account, amount, line);
    UPDATE accounts AS a SET balance = a.balance + n.delta
        FROM (SELECT l.account, sum(l.amount) AS delta
              FROM unnest(p_accounts, p_amounts) AS l (account, amount)
              GROUP BY l.account) AS n
        WHERE a.name = n.account AND n.delta <> 0;
    status := 'applied';
END $$;

CREATE TABLE referral_rewards (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referrer_id bigint NOT NULL REFERENCES users (id),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    amount      bigint NOT NULL CHECK (amount > 0),
    room_id     bigint NOT NULL REFERENCES rooms (id),
    bet_id      bigint NOT NULL REFERENCES bets (id),
    CONSTRAINT referral_rewards_once UNIQUE (bet_id, level)
);
CREATE INDEX referral_rewards_referrer_idx ON referral_rewards (referrer_id);

CREATE TABLE outbox (
    id              bigint PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    kind            text NOT NULL,
    payload         jsonb NOT NULL,
    dedupe_key      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- The audit log. Appends are plain inserts (no hot row); a sealer chains them afterwards in
-- the order of their transaction ids, taking only rows of transactions that have finished
-- (xid below the snapshot's xmin), so no later commit can slip in before a sealed record.
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    details   jsonb NOT NULL,
    seq       bigint,
    prev_hash text,
    hash      text,
    CONSTRAINT audit_sealed_whole CHECK ((seq IS NULL) = (hash IS NULL)
                                         AND (seq IS NULL) = (prev_hash IS NULL))
);
CREATE UNIQUE INDEX audit_seq_idx ON audit_log (seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_unsealed_idx ON audit_log (xid, id) WHERE seq IS NULL;

CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL
       AND (NEW.id, NEW.xid, NEW.at, NEW.actor, NEW.action, NEW.details)
           IS NOT DISTINCT FROM (OLD.id, OLD.xid, OLD.at, OLD.actor, OLD.action, OLD.details) THEN
        RETURN NEW;  -- sealing: setting seq and hashes once
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

CREATE TABLE idempotency_keys (
    key        text PRIMARY KEY,
    result_ref text NOT NULL
);

CREATE TABLE deposits (
    signature         text NOT NULL,
    address           text NOT NULL,
    instruction_index integer NOT NULL CHECK (instruction_index >= 0),
    user_id           bigint NOT NULL REFERENCES users (id),
    amount            bigint NOT NULL CHECK (amount > 0),
    credited_at       timestamptz NOT NULL,
    -- RULES 7: one transaction can pay several of our addresses; each payment once.
    PRIMARY KEY (signature, address, instruction_index)
);

CREATE TABLE deposit_cursors (
    address   text PRIMARY KEY,
    signature text NOT NULL
);

CREATE TABLE withdrawals (
    id                      bigint PRIMARY KEY,
    user_id                 bigint NOT NULL REFERENCES users (id),
    destination             text NOT NULL,
    amount                  bigint NOT NULL CHECK (amount > 0),
    state                   text NOT NULL,
    created_at              timestamptz NOT NULL,
    idempotency_key         text NOT NULL,
    approvals               bigint[] NOT NULL,
    signature               text,
    blockhash               text,
    last_valid_block_height bigint,
    failure_reason          text,
    updated_at              timestamptz,
    CONSTRAINT withdrawals_once_per_request UNIQUE (user_id, idempotency_key),
    CONSTRAINT withdrawals_sent_with_blockhash CHECK (
        signature IS NULL OR (blockhash IS NOT NULL AND last_valid_block_height IS NOT NULL))
);
CREATE INDEX withdrawals_state_idx ON withdrawals (state, id);

-- A bet's request (idempotency) key is kept in the bet's own row instead of a row of
-- idempotency_keys: one row and one statement fewer a bet. Bets' keys are the 'bet:...'
-- keys (rooms_core.services.bets.bet_request_key); from now on idempotency_keys holds only
-- the others (NOT VALID: the bets' keys already there stay and are still read), so the two
-- sets are disjoint by these CHECKs and each is unique: every request key is unique.
ALTER TABLE bets
    ADD COLUMN request_key text,
    ADD CONSTRAINT bets_request_key_unique UNIQUE (request_key),
    ADD CONSTRAINT bets_request_key_is_a_bet_key CHECK (request_key LIKE 'bet:%');
ALTER TABLE idempotency_keys
    ADD CONSTRAINT idempotency_keys_not_a_bet_key CHECK (key NOT LIKE 'bet:%') NOT VALID;

-- A room's state and outcome are kept to the known values by foreign keys to two small
-- tables instead of CHECK (state IN (...)) and CHECK (outcome IN (...)). PostgreSQL reads and
-- evaluates every CHECK of a table on every update of a row, and a room's row is updated by
-- every bet (its pools); a foreign key is checked only when the state or outcome itself
-- changes. The tables are reference data: a value still in use cannot be deleted.
CREATE TABLE room_states (state text PRIMARY KEY);
INSERT INTO room_states (state)
VALUES ('QUEUING'), ('OPEN'), ('LOCKED'), ('SETTLING'), ('SETTLED'), ('CANCELLED'), ('VOID');

CREATE TABLE room_outcomes (outcome text PRIMARY KEY);
INSERT INTO room_outcomes (outcome) VALUES ('YES'), ('NO');

ALTER TABLE rooms
    DROP CONSTRAINT rooms_state_check,
    DROP CONSTRAINT rooms_outcome_check,
    ADD CONSTRAINT rooms_state_known FOREIGN KEY (state) REFERENCES room_states (state),
    ADD CONSTRAINT rooms_outcome_known FOREIGN KEY (outcome) REFERENCES room_outcomes (outcome);

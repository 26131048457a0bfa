-- The operators' switches (pause betting, pause withdrawals): at most one row, read by every
-- bet placement in the same statement as the room and the balance. No row means all off.
CREATE TABLE platform_controls (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    betting_paused     boolean NOT NULL DEFAULT false,
    withdrawals_paused boolean NOT NULL DEFAULT false
);

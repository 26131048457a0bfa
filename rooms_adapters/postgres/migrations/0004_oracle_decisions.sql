-- Every consensus the oracle formed or failed to form: the value and its sources, the quotes
-- used, and each rejected source with its reason, so a settlement can be explained later.
CREATE TABLE oracle_decisions (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    asset    text NOT NULL,
    value    numeric,            -- the accepted consensus; NULL when there was none
    sources  text[] NOT NULL,    -- the sources of the accepted value
    used     jsonb NOT NULL,     -- [{"source", "value", "observed_at"}]
    rejected jsonb NOT NULL      -- [["source", "reason"]]
);
CREATE INDEX oracle_decisions_asset_at_idx ON oracle_decisions (asset, at);

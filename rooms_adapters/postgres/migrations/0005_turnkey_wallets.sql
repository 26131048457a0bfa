-- Which Turnkey wallet address belongs to which owner (the keys stay in Turnkey).
CREATE TABLE turnkey_wallets (
    owner      text PRIMARY KEY,
    address    text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

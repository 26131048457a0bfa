-- Sealed wallet keys of the local signer: AES-256-GCM ciphertexts of ed25519 seeds, each
-- under a key derived from the master key (which never reaches the database) and the owner.
CREATE TABLE wallet_keys (
    owner      text PRIMARY KEY,
    address    text NOT NULL UNIQUE,
    nonce      bytea NOT NULL CHECK (length(nonce) = 12),
    ciphertext bytea NOT NULL CHECK (length(ciphertext) = 48),
    created_at timestamptz NOT NULL DEFAULT now()
);

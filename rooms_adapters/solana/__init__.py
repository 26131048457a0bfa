"""Solana custody and chain access: the local (encrypted-at-rest) signer; chain adapters."""

"""Live exchange price feeds: adapters of :class:`rooms_core.ports.prices.PriceSource` over
httpx (Binance, CoinGecko, CryptoCompare, DexScreener, Pyth Hermes). Wrap each in
:class:`rooms_core.price_guard.GuardedSource` to respect the provider's limits."""

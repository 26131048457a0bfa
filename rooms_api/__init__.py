"""ROOMS web API: REST, WebSocket live updates, the Mini App page, metrics and health."""

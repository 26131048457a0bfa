"""The web API of ROOMS: REST over the core's services and queries, a WebSocket of live
room updates, the Telegram Mini App page, Prometheus metrics and health checks.

Build it with :func:`rooms_api.app.create_app` from a deployment's ``Deps`` and its ports;
``rooms api`` serves it with uvicorn."""

"""Use-case services: short async functions that take primitives and their dependencies,
load aggregates through a unit of work, call domain methods and commit. Expected failures
come back as ``Failure(DomainError)``; nothing here raises for them."""

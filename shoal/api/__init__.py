"""The Sentry `/api/0/` subset, with bearer tokens: one module per resource (docs/api.md)."""

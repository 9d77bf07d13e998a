"""Shoal: a self-hosted error tracker that speaks Sentry's protocol."""

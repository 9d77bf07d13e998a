"""The browser fixtures (`browser`, `page`) are in tests/conftest.py, shared with tests/e2e:
Playwright's sync API allows one instance per process."""

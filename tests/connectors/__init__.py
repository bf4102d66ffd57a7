"""Connector tests: HTTP mocked with responses and the Freshdesk sandbox."""

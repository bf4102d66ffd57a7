"""Helpdesk connectors: all network I/O with Salesforce, Movidesk and Freshdesk lives here."""

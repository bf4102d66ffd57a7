"""helpdesk-sync decision core: pure code that turns a ticket and an SOP mapping into actions.

Nothing in this package performs network I/O or reads the clock; connectors do I/O and
pass ``now`` in.
"""

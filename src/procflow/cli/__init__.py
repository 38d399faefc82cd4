"""Command line: `procflow serve | init | users | tokens | db`."""

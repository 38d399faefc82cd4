"""Pure rules of procflow: no web framework, no database."""

"""Turn stored objects into Tallyfy's JSON representations (plain dicts)."""

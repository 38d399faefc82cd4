"""What procflow does only on PostgreSQL, for speed, behind one seam.

- `driver`: the run update's statements, compiled by SQLAlchemy once, straight on the
  psycopg cursor of the transaction's own connection.
"""

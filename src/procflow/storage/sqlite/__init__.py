"""What procflow does only on SQLite, for speed, behind one seam.

- `engine`: connection set-up (WAL, pragmas) and `BEGIN IMMEDIATE` for writers;
- `gate` and `checkpointer`: WAL checkpoints off the request path;
- `lending`: one connection lent to one transaction at a time;
- `driver`: the hot path's statements straight on the driver's cursor, with codecs that
  read and write exactly what SQLAlchemy's column types do.

Nothing above `storage` imports these modules except the application's start-up (which
starts the checkpointer) and the unit of work (which passes the write gate).
"""

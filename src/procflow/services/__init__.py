"""Use cases. Each takes a UnitOfWork first; none of them commits."""

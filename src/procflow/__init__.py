"""procflow: a self-hosted process server that speaks Tallyfy's REST API.

Layers, and the only directions imports may take:

    api, cli  ->  services  ->  domain, storage
    domain    ->  (standard library, pydantic, procflow.errors)
    storage   ->  (sqlalchemy, alembic, procflow.domain)

`api` is the only package that imports FastAPI; `cli` the only one that imports Typer.
"""

__version__ = "0.1.0"

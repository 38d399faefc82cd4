"""An empty database at the latest schema, made by the migrations once and then copied.

Running the migrations costs more than everything else a sandbox does at start. Their
result depends on nothing but the migration scripts, so it is kept in the user's cache
folder under a name derived from those scripts' contents, and each new sandbox starts from
a copy. A stale copy cannot be picked up: changed scripts make another name.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from procflow.settings import Settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import MIGRATIONS, upgrade


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "procflow"


def fingerprint() -> str:
    digest = hashlib.sha256()
    for script in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(script.relative_to(MIGRATIONS).as_posix().encode())
        digest.update(script.read_bytes())
    return digest.hexdigest()[:16]


def template() -> Path:
    """The cached empty database, made now if missing."""
    folder = cache_folder()
    path = folder / f"sandbox-schema-{fingerprint()}.db"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            built = Path(scratch) / "schema.db"
            engine = make_engine(Settings(database_url=f"sqlite:///{built}"))
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            os.replace(built, path)  # whole or absent, whichever sandbox gets there first
    return path


def copy_to(target: Path) -> bool:
    """Put an empty migrated database at `target`; False if the cache is unusable."""
    try:
        shutil.copyfile(template(), target)
    except OSError:
        return False
    return True

"""`procflow serve`, but on an event loop chosen here: to compare loops with run.py.

PROCFLOW_DATABASE_URL=... python bench/serve_loop.py asyncio --port 8000
"""

import argparse

import uvicorn

from procflow.api.app import create_app
from procflow.cli.main import http_protocol
from procflow.settings import get_settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("loop", choices=("asyncio", "uvloop"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = get_settings()
    upgrade(make_engine(settings))
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        http=http_protocol(),
        loop=args.loop,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# One command for the whole benchmark: bench/run.sh [--skip-postgres] [--duration 10] ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is not installed. Install it with your package manager, e.g." >&2
  echo "  sudo apt-get install -y wrk     (Debian/Ubuntu)" >&2
  echo "  brew install wrk                (macOS)" >&2
  exit 2
fi
exec "$python" "$root/bench/run.py" "$@"

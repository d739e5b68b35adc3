#!/usr/bin/env bash
# Write a compose .env from .env.example with a fresh random value for every "change-me".
# Usage: deploy/init-env.sh [OUT]   (default: .env at the repository root; an existing file is never overwritten)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/.env}"
if [[ -e "$out" ]]; then
  echo "$out exists; leaving it as it is"
  exit 0
fi
umask 077
python3 - "$repo/.env.example" "$out" <<'PY'
import secrets
import sys
from pathlib import Path

example, out = Path(sys.argv[1]), Path(sys.argv[2])
lines = [line.replace("change-me", secrets.token_urlsafe(24)) for line in example.read_text().splitlines()]
out.write_text("\n".join(lines) + "\n")
PY
echo "wrote $out with random secrets (the API token: grep SAELAB_API_TOKEN $out)"

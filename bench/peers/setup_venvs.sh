#!/usr/bin/env bash
# Create the bench-only peer virtualenvs (.bench/saelens, .bench/dashboard); never touches the product .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
mkvenv() {  # mkvenv NAME REQUIREMENTS_FILE
  local dir=".bench/$1" req="bench/peers/$2"
  if [ -f "$dir/.ready" ] && cmp -s "$req" "$dir/.ready"; then return 0; fi
  echo "bench: creating $dir from $req" >&2
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install -q --upgrade pip
  # torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
  "$dir/bin/pip" install -q torch==2.13.0
  "$dir/bin/pip" install -q -r "$req"
  "$dir/bin/pip" freeze > "$dir/freeze.txt"
  cp "$req" "$dir/.ready"
}
mkvenv saelens requirements-saelens.txt
mkvenv dashboard requirements-dashboard.txt

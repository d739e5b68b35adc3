#!/usr/bin/env bash
# Create the bench-only peer virtualenvs (.bench/saelens, .bench/dashboard); never touches the product .venv.
# Usage: bench/peers/setup_venvs.sh [saelens] [dashboard]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}

mkvenv() {  # mkvenv NAME REQUIREMENTS_FILE IMPORT_CHECK
  local dir=".bench/$1" req="bench/peers/$2" check="$3"
  if [ -f "$dir/.ready" ] && cmp -s "$req" "$dir/.ready"; then return 0; fi
  echo "bench: creating $dir from $req (a few minutes; log in $dir.log)" >&2
  rm -rf "$dir"
  mkdir -p .bench
  {
    "$PY" -m venv "$dir"
    "$dir/bin/pip" install -q --upgrade pip
    # torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
    "$dir/bin/pip" install -q torch==2.13.0
    "$dir/bin/pip" install -q -r "$req"
    # decode-clt (an sae-dashboard dependency) pulls unpinned torchvision/torchaudio built for another torch,
    # whose missing C ops break transformers' lazy imports; neither is used here.
    "$dir/bin/pip" uninstall -q -y torchvision torchaudio || true
    "$dir/bin/python" -c "$check"
  } >"$dir.log" 2>&1 || { echo "bench: creating $dir failed; see $dir.log" >&2; tail -20 "$dir.log" >&2; exit 1; }
  "$dir/bin/pip" freeze >"$dir/freeze.txt"
  cp "$req" "$dir/.ready"
}

wanted=" ${*:-saelens dashboard} "
case "$wanted" in *" saelens "*) mkvenv saelens requirements-saelens.txt "import sae_lens" ;; esac
case "$wanted" in *" dashboard "*) mkvenv dashboard requirements-dashboard.txt "import sae_dashboard.sae_vis_runner" ;; esac

#!/usr/bin/env bash
# A newcomer's first run, end to end: in an empty working directory with the default (embedded) settings,
#   1. `saelab up` with no runs: the explorer in Chromium says what to run (make demo / saelab register);
#   2. `saelab demo` (what `make demo` runs) on a tiny random GPT-2 and a few TinyStories, with small flags so it
#      takes seconds: its last lines say what to run and the URL;
#   3. `saelab up` again: the explorer lists the demo's features, at the URL the demo printed.
# Usage (from web/, after `npm run build`): bash e2e/run-newcomer.sh
# Env: PYTHON (default: the repo's .venv python), CHROMIUM_PATH (default /usr/bin/chromium). Ports: free ones.
set -euo pipefail
WEB="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$WEB/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d)"
GW=""

cleanup() {
  status=$?
  stop_gateway
  if [ $status -ne 0 ]; then
    for log in demo.log gateway.log; do
      [ -f "$WORK/$log" ] && { echo "--- $log (tail) ---"; tail -n 40 "$WORK/$log"; }
    done
  fi
  rm -rf "$WORK"
  exit $status
}
stop_gateway() {
  if [ -n "$GW" ]; then kill "$GW" 2>/dev/null || true; wait "$GW" 2>/dev/null || true; GW=""; fi
}
trap cleanup EXIT

[ -f "$WEB/dist/index.html" ] || { echo "web/dist is not built: run npm run build first" >&2; exit 1; }
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { echo "Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)" >&2; exit 1; }

# The defaults a fresh clone has: no SAELAB_* settings, so the database is ./artifacts/saelab.db and the store
# ./artifacts; the working directory stands in for the clone (configs and web/dist come from the checkout).
for var in $(env | grep -o '^SAELAB_[A-Z_]*' || true); do unset "$var"; done
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
saelab() { "$PY" -m cli.main "$@"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

start_gateway() {
  PORT="$(free_port)"
  saelab up --port "$PORT" > "$WORK/gateway.log" 2>&1 &
  GW=$!
  for _ in $(seq 90); do
    if curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null; then return 0; fi
    kill -0 "$GW" 2>/dev/null || { echo "saelab up exited at start" >&2; exit 1; }
    sleep 1
  done
  echo "saelab up did not become healthy" >&2
  exit 1
}

browse() {  # browse SPEC [env...]: run one newcomer spec against the running gateway
  local spec="$1"; shift
  (cd "$WEB" && env E2E_BASE_URL="http://127.0.0.1:$PORT" "$@" npx playwright test -c playwright.newcomer.config.ts "$spec")
}

cd "$WORK"
echo "1/3 saelab up with no runs"
start_gateway
browse e2e/newcomer/empty.spec.ts
stop_gateway

echo "2/3 saelab demo on a tiny random GPT-2"
"$PY" -c "
from pathlib import Path
from services.gateway.dev_seed import local_corpus, tiny_gpt2
tiny_gpt2(Path('stand-ins/tiny-gpt2')); local_corpus(Path('stand-ins/stories.txt'), 200)
" > /dev/null 2>&1
saelab demo --model stand-ins/tiny-gpt2 --corpus stand-ins/stories.txt \
  --set collect.hook=blocks.2.hook_resid_pre --set collect.n_tokens=4096 --set collect.context_length=64 \
  --set collect.device=cpu --set train.d_sae=64 --set train.n_steps=80 --set train.batch_size=256 \
  --set train.device=cpu --set evaluate.n_tokens=512 --set evaluate.device=cpu --set analyse.top_k=5 \
  --set analyse.device=cpu > "$WORK/demo.log" 2>&1
tail -n 4 "$WORK/demo.log"
URL="$(tail -n 1 "$WORK/demo.log" | grep -o 'http://127.0.0.1:8000/?run=[0-9a-f]*')" \
  || { echo "the demo's last line names no URL" >&2; exit 1; }
tail -n 3 "$WORK/demo.log" | grep -q 'make up' || { echo "the demo's last lines do not say to run make up" >&2; exit 1; }

echo "3/3 saelab up: the demo's features in the explorer"
start_gateway
browse e2e/newcomer/demo.spec.ts E2E_DEMO_PATH="${URL#http://127.0.0.1:8000}"

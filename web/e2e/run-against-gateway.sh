#!/usr/bin/env bash
# The real end-to-end run: seed a throwaway database with a real pipeline on the tiny GPT-2
# (services.gateway.dev_seed, offline), start the real gateway (embedded mode) serving web/dist on it, run the
# Playwright specs against it in Debian Chromium, then stop the gateway and delete the data.
# Usage (from web/, after `npm run build`): bash e2e/run-against-gateway.sh [playwright args]
# Env: PYTHON (default: the repo's .venv python), E2E_PORT (default: a free port the OS picks at start, so a busy
# port never turns the specs red), CHROMIUM_PATH (default /usr/bin/chromium).
set -euo pipefail
WEB="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$WEB/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
PORT="${E2E_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
WORK="$(mktemp -d)"
GW=""
CHAT=""

cleanup() {
  status=$?
  if [ -n "$GW" ]; then kill "$GW" 2>/dev/null || true; wait "$GW" 2>/dev/null || true; fi
  if [ -n "$CHAT" ]; then kill "$CHAT" 2>/dev/null || true; wait "$CHAT" 2>/dev/null || true; fi
  if [ $status -ne 0 ] && [ -f "$WORK/gateway.log" ]; then echo "--- gateway log (tail) ---"; tail -n 40 "$WORK/gateway.log"; fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

[ -f "$WEB/dist/index.html" ] || { echo "web/dist is not built: run npm run build first" >&2; exit 1; }
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { echo "Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)" >&2; exit 1; }

export SAELAB_DATABASE_URL="sqlite:///$WORK/saelab.db"
export SAELAB_ARTIFACTS_DIR="$WORK/artifacts"
export SAELAB_API_TOKEN="e2e-$(date +%s)-$RANDOM"
export SAELAB_GATEWAY_WEB_DIST="$WEB/dist"

cd "$ROOT"
echo "seeding a tiny-GPT-2 run into $WORK ..."
"$PY" -m services.gateway.dev_seed --tokens 4096 --d-sae 256 --json > "$WORK/seed.json" 2> "$WORK/seed.log" \
  || { tail -n 40 "$WORK/seed.log"; exit 1; }
cat "$WORK/seed.json"
# An SAE in SAELens's layout (as SAELens saves one) for the dev seed's tiny GPT-2, under the artifact directory
# (the default data root in embedded mode): what the import spec brings in through the web form.
"$PY" -c '
import sys, torch
from shared.sae import SAEConfig, create_sae
from shared.sae.saelens import write_saelens
torch.manual_seed(0)
sae = create_sae(SAEConfig("jumprelu", 64, 96, hook_name="blocks.2.hook_resid_pre", model_name=sys.argv[1], context_size=64))
with torch.no_grad():
    sae.threshold.copy_(torch.rand(96) * 0.05)
write_saelens(sae, sys.argv[2])
' "$WORK/artifacts/models/tiny-gpt2" "$WORK/artifacts/byo-sae"

# The LLM explainer's endpoint: the packaged SmolLM2-135M-Instruct behind the tests' OpenAI-compatible server (the
# same one the Python tests use), on a free port; the gateway's explain jobs call it.
PYTHONPATH="$ROOT" "$PY" tests/support/chat_server.py --max-tokens 32 > "$WORK/chat.json" 2> "$WORK/chat.log" &
CHAT=$!
for _ in $(seq 180); do
  if [ -s "$WORK/chat.json" ]; then break; fi
  kill -0 "$CHAT" 2>/dev/null || { echo "the chat server exited at start" >&2; tail -n 20 "$WORK/chat.log"; exit 1; }
  sleep 1
done
export SAELAB_EXPLAINER_BASE_URL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["base_url"])' "$WORK/chat.json")"
export SAELAB_EXPLAINER_MODEL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["model"])' "$WORK/chat.json")"

"$PY" -m uvicorn services.gateway.app:app --host 127.0.0.1 --port "$PORT" > "$WORK/gateway.log" 2>&1 &
GW=$!
for _ in $(seq 90); do
  if curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null; then break; fi
  kill -0 "$GW" 2>/dev/null || { echo "the gateway exited at start" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null || { echo "the gateway did not become healthy" >&2; exit 1; }

cd "$WEB"
E2E_BASE_URL="http://127.0.0.1:$PORT" \
E2E_API_TOKEN="$SAELAB_API_TOKEN" \
E2E_MODEL="$WORK/artifacts/models/tiny-gpt2" \
E2E_CORPUS="$WORK/artifacts/corpus/stories.txt" \
E2E_SAE_SOURCE="$WORK/artifacts/byo-sae" \
E2E_LAYER=2 E2E_CONTEXT=64 \
E2E_EXPLAINER_MODEL="$SAELAB_EXPLAINER_MODEL" \
  npx playwright test "$@"

"""Gateway latency: concurrent clients against a real uvicorn gateway serving a seeded run of >= 6,144 features.

Seeds a real run with ``python -m services.gateway.dev_seed`` (SmolLM2-135M layer 15 by default, or the tiny random
GPT-2 with ``--model tiny``; TopK SAE; or reuses ``--db``), starts ``uvicorn services.gateway.app:app`` as a
subprocess on a free port, and drives it with N concurrent keep-alive clients for a fixed duration per operation
(every query with the ``__typename`` fields the web client's urql adds):

- features page: the web client's FeaturesPage query, 50 per page, a random (sort, order, page) of the
  4 x 2 x 123 combinations each request, so the response cache only hits on repeats;
- feature detail: the web client's FeatureDetail query for a random feature index;
- search: the web client's Search query for one of a few words;
- analysePrompt: the web client's AnalysePrompt query (topK 8) on a 64-token prompt, at N clients and at 1 client;
- steer (1 client only): the web client's Steer query, 32 new tokens greedy, one steering intervention, on the
  64-token prompt; beside the bare model's generation (``model.generate`` of a batch of two rows, 32 new tokens,
  greedy, KV cache; the clean and the steered side), timed in this process like the bare encode;
- attribute (1 client only): the web client's Attribute query on the 64-token prompt; beside the bare
  forward + backward of the same target logit to the hook activation (the gradient pass attribution needs), and,
  for reference, the same pass with its backward started from the target's row of the unembedding as
  attribution's is (``forward + backward, target row``).

The server runs twice: with the response cache at its default TTL and with ``SAELAB_GATEWAY_RESPONSE_CACHE_S=0``
(every request runs SQL + GraphQL). The bare forward+encode of the same prompt (``LiveModel.encode``: tokenise,
LM up to the hook, SAE encode) is timed in this process, one call at a time in a worker thread like the gateway
does, right before the 1-client analysePrompt run; overhead = gateway p50 (1 client) / bare p50 - 1.

``repeat_share`` is the share of requests whose exact variables this server had already answered (the upper bound
of response-cache hits); ``first_seen_p50_ms`` the p50 of the others alone (cache misses under the same load).

Load generator: asyncio with a minimal HTTP/1.1 keep-alive client (one connection per client, Content-Length
responses) in one process; its own CPU share and the server's are in every JSON line.

Goals (issue 5, 20 clients): features page p50 <= 15 ms and p99 <= 60 ms; feature detail p50 <= 25 ms;
search p50 <= 40 ms; analysePrompt overhead <= 20 %; zero errors. Issue 15 (1 client): steer and attribute overhead
<= 20 % over their bare model work.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.records import emit
from tests.support.operations import ANALYSE_PROMPT, ATTRIBUTE, FEATURE_DETAIL, FEATURES_PAGE, SEARCH, STEER
from tests.support.servers import free_port

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
MIN_FEATURES = 6144
PAGE_SIZE = 50
TOP_K = 8
SORTS = ("INDEX", "DENSITY", "MAX_ACTIVATION", "LABEL_SCORE")
ORDERS = ("ASC", "DESC")
SEARCH_WORDS = ("the", "she", "happy", "dog", "park", "ball", "mom", "tree")
PROMPT_TOKENS = 64
PROMPT_SENTENCE = "Once upon a time, a little girl named Lily went to the park with her mom and her dog. "
TOKEN = "bench-token"
SEED_CACHE = ROOT / "bench" / "out" / "gateway-seed"

GOALS: dict[str, dict[str, float]] = {
    "features_page": {"p50_ms": 15.0, "p99_ms": 60.0},
    "feature_detail": {"p50_ms": 25.0},
    "search": {"p50_ms": 40.0},
    "analysePrompt": {},
    "steer": {},
    "attribute": {},
}
SINGLE_CLIENT = ("steer", "attribute")
"""Operations measured at 1 client only, beside their bare model work."""
STEER_NEW_TOKENS = 32
STEER_MULTIPLE = 4.0
"""``steer`` adds this many times the steered feature's max activation (the run's strongest feature)."""
OVERHEAD_GOAL = 0.20


# --------------------------------------------------------------------------------------------------------------
# Seeding and the server
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """Where the run lives: the embedded database URL and the artifact directory."""

    database_url: str
    artifacts: Path


def seed(workdir: Path, d_sae: int, model: str | None = None, hook: str | None = None) -> Seeded:
    """Run ``dev_seed`` (a real collect -> train -> evaluate -> analyse pipeline) into ``workdir``."""
    seeded = Seeded(f"sqlite:///{workdir / 'saelab.db'}", workdir / "artifacts")
    env = {**os.environ, **store_env(seeded)}
    cmd = [sys.executable, "-m", "services.gateway.dev_seed", "--d-sae", str(d_sae), "--json"]
    if model is not None:
        cmd += ["--model", model, "--hook", hook or "blocks.15.hook_resid_pre"]
    if "SAELAB_SHARED_DIR" in os.environ:  # a worktree outside the team's layout: its TinyStories copy
        cmd += ["--corpus", str(Path(os.environ["SAELAB_SHARED_DIR"]) / "data" / "tinystories")]
    print(f"bench: seeding a {d_sae}-feature run into {workdir} (a few minutes) ...", file=sys.stderr)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: dev_seed failed (exit {done.returncode}): {done.stderr[-2000:]}")
    print(f"bench: seeded {done.stdout.strip().splitlines()[-1]}", file=sys.stderr)
    return seeded


def cached_seed(args: argparse.Namespace) -> Seeded:
    """The seeded run under ``bench/out/gateway-seed/<model>-<d_sae>`` (seeded once, reused by later runs: the
    seed is minutes of collect + train + analyse; ``--reseed`` redoes it)."""
    model = None if args.model == "tiny" else args.model
    hook = args.hook or ("blocks.15.hook_resid_pre" if model else "default")
    folder = SEED_CACHE / f"{args.model}-{args.d_sae}-{hook}"
    done = folder / "seeded.json"
    if done.is_file() and not args.reseed:
        print(f"bench: reusing the seeded run in {folder} (--reseed to redo it)", file=sys.stderr)
        return Seeded(f"sqlite:///{folder / 'saelab.db'}", folder / "artifacts")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    seeded = seed(folder, args.d_sae, model, args.hook)
    done.write_text(json.dumps({"model": args.model, "d_sae": args.d_sae, "hook": hook}))
    return seeded


def add_run_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """The options every gateway bench takes for the run it measures: a seeded database to reuse (``--db``, read
    by ``reused_seed``), else the size of the run to seed; the run to ``verb`` in it."""
    parser.add_argument("--db", type=Path, help="reuse this seeded SQLite database instead of seeding one")
    parser.add_argument("--artifacts", type=Path, help="artifact dir of --db (default: artifacts/ beside it)")
    parser.add_argument("--run-id", help=f"run to {verb} (default: the newest with >= 6144 features)")
    parser.add_argument("--d-sae", type=int, default=MIN_FEATURES, help="features of the seeded run")


def reused_seed(db: Path, artifacts: Path | None) -> Seeded:
    """The run seeded earlier into ``db`` (``--db``), its artifacts in ``artifacts`` or else beside it."""
    if not db.is_file():
        raise SystemExit(f"bench: --db {db} does not exist")
    return Seeded(f"sqlite:///{db.resolve()}", (artifacts or db.parent / "artifacts").resolve())


def store_env(seeded: Seeded) -> dict[str, str]:
    return {"SAELAB_DATABASE_URL": seeded.database_url, "SAELAB_ARTIFACTS_DIR": str(seeded.artifacts)}


@dataclass
class Server:
    """A running ``uvicorn services.gateway.app:app`` subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def cpu_s(self) -> float:
        """User + system CPU seconds the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def gateway(seeded: Seeded, cache_s: float | None, workdir: Path, label: str) -> Iterator[Server]:
    """Start the gateway (response cache TTL ``cache_s``; None = its default), wait until healthy, stop it after."""
    port = free_port()
    env = {
        **os.environ,
        **store_env(seeded),
        "SAELAB_API_TOKEN": TOKEN,
        "SAELAB_GATEWAY_INFERENCE_RATE_PER_MINUTE": "1000000000",
        "SAELAB_GATEWAY_INFERENCE_BURST": "1000000",
        # steer (32 new tokens of a 30-block model) can pass the default 30 s operation timeout on a busy CPU
        "SAELAB_GATEWAY_REQUEST_TIMEOUT_S": "600",
    }
    env.pop("SAELAB_GATEWAY_RESPONSE_CACHE_S", None)
    if cache_s is not None:
        env["SAELAB_GATEWAY_RESPONSE_CACHE_S"] = str(cache_s)
    log_path = workdir / f"gateway-{label}.log"
    cmd = [sys.executable, "-m", "uvicorn", "services.gateway.app:app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with log_path.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, log_path)
    try:
        wait_healthy(server, timeout_s=180.0)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(server: Server, timeout_s: float) -> None:
    """Poll /healthz until 200; raise with the server's log tail if it exits or never gets healthy."""
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{server.port}/healthz"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"bench: the gateway exited ({server.process.returncode}): {log_tail(server)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench: the gateway was not healthy after {timeout_s:.0f} s: {log_tail(server)}")


def log_tail(server: Server) -> str:
    return server.log_path.read_text(errors="replace")[-2000:]


def graphql_sync(port: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL request (setup only); raise when the answer has errors."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        answer: dict[str, Any] = json.loads(response.read())
    if answer.get("errors"):
        raise SystemExit(f"bench: setup query failed: {answer['errors']}")
    return answer["data"]


def pick_run(port: int, run_id: str | None) -> tuple[str, int]:
    """The run to benchmark (``run_id`` or the newest run with >= MIN_FEATURES features) and its feature count."""
    candidates = [run_id] if run_id else [r["id"] for r in graphql_sync(port, "{ runs { id } }", {})["runs"]]
    count_query = "query($r: ID!) { features(runId: $r, first: 1) { totalCount } }"
    for candidate in candidates:
        total = int(graphql_sync(port, count_query, {"r": candidate})["features"]["totalCount"])
        if total >= MIN_FEATURES:
            return candidate, total
    raise SystemExit(f"bench: no run with >= {MIN_FEATURES} analysed features in the database ({candidates})")


# --------------------------------------------------------------------------------------------------------------
# Load generator
# --------------------------------------------------------------------------------------------------------------


class HttpConnection:
    """A minimal HTTP/1.1 keep-alive client for POST /graphql (Content-Length bodies only)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._streams
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        try:
            headers = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        status_line, *lines = headers.decode("latin-1").split("\r\n")
        length = None
        for line in lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding":
                raise RuntimeError(f"unsupported Transfer-Encoding: {value.strip()}")
        if length is None:
            raise RuntimeError(f"response without Content-Length: {status_line}")
        return int(status_line.split()[1]), await reader.readexactly(length)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    first_latencies_s: list[float] = field(default_factory=list)
    """Latencies of the requests whose exact variables this server had not seen before (never a cache hit)."""
    errors: int = 0
    first_error: str | None = None
    repeats: int = 0

    def error(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message[:500]


Body = Callable[[random.Random], tuple[str, bytes]]
"""A request factory: (cache key, JSON body)."""


async def closed_loop(
    port: int,
    clients: int,
    duration_s: float,
    next_request: Callable[[random.Random], tuple[Any, bytes]],
    record: Callable[[Any, float | None, str | None], None],
) -> None:
    """``clients`` closed-loop keep-alive clients (client i draws from ``random.Random(i)``) for ``duration_s``:
    each asks ``next_request`` for a (tag, JSON body), posts it and hands ``record`` the tag, the latency in seconds
    (None when the request itself failed) and why it failed (the exception, or ``answer_error``), if it did."""
    deadline = time.perf_counter() + duration_s

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = HttpConnection(port)
        try:
            while time.perf_counter() < deadline:
                tag, body = next_request(rng)
                start = time.perf_counter()
                try:
                    status, answer = await conn.post(body)
                except (OSError, RuntimeError, asyncio.IncompleteReadError) as err:
                    record(tag, None, f"{type(err).__name__}: {err}")
                    continue
                record(tag, time.perf_counter() - start, answer_error(status, answer))
        finally:
            await conn.close()

    await asyncio.gather(*(client(i) for i in range(clients)))


async def run_load(port: int, make_body: Body, clients: int, duration_s: float, seen: set[str]) -> LoadResult:
    """``clients`` closed-loop clients sending ``make_body`` requests for ``duration_s``; GraphQL errors count."""
    result = LoadResult()

    def next_request(rng: random.Random) -> tuple[bool, bytes]:
        key, body = make_body(rng)
        repeat = key in seen
        result.repeats += repeat
        seen.add(key)
        return repeat, body

    def record(repeat: bool, latency_s: float | None, failure: str | None) -> None:
        if latency_s is not None:
            result.latencies_s.append(latency_s)
            if not repeat:
                result.first_latencies_s.append(latency_s)
        if failure is not None:
            result.error(failure)

    await closed_loop(port, clients, duration_s, next_request, record)
    return result


def answer_error(status: int, answer: bytes) -> str | None:
    """Why a GraphQL answer is an error (HTTP status, unparsable, top-level ``errors``), or None when it is fine."""
    try:
        payload = json.loads(answer)
    except ValueError:
        payload = None
    if status != 200 or not isinstance(payload, dict) or payload.get("errors") or not payload.get("data"):
        return f"HTTP {status}: {answer[:300].decode(errors='replace')}"
    return None


def request_body(query: str, variables: dict[str, Any]) -> tuple[str, bytes]:
    payload = json.dumps({"query": with_typenames(query), "variables": variables}, sort_keys=True)
    return payload, payload.encode()


@functools.lru_cache(maxsize=16)
def with_typenames(query: str) -> str:
    """The query as the web client sends it: urql adds ``__typename`` to every selection set below the root
    (its document cache keys results by type)."""
    from graphql import (
        FieldNode,
        NameNode,
        OperationDefinitionNode,
        SelectionSetNode,
        Visitor,
        parse,
        print_ast,
        visit,
    )

    typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())

    class AddTypename(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any) -> Any:
            if isinstance(parent, OperationDefinitionNode):
                return None
            names = {s.name.value for s in node.selections if isinstance(s, FieldNode)}
            if "__typename" in names:
                return None
            return SelectionSetNode(selections=(*node.selections, typename))

    return print_ast(visit(parse(query), AddTypename()))


def strongest_feature(port: int, run_id: str) -> tuple[int, float]:
    """(index, max activation) of the run's feature with the largest max activation (alive by definition)."""
    query = "query($r: ID!) { features(runId: $r, first: 1, sort: MAX_ACTIVATION, order: DESC) { nodes { index maxActivation } } }"
    node = graphql_sync(port, query, {"r": run_id})["features"]["nodes"][0]
    return int(node["index"]), float(node["maxActivation"])


def operations(
    run_id: str, n_features: int, prompt: str, steered: tuple[int, float] = (0, 1.0)
) -> dict[str, Body]:
    """The request factories of the benchmarked operations (``steered``: the feature steer adds, its max act.)."""
    pages = -(-n_features // PAGE_SIZE)
    return {
        "features_page": lambda rng: request_body(
            FEATURES_PAGE,
            {
                "runId": run_id,
                "page": rng.randint(1, pages),
                "first": PAGE_SIZE,
                "sort": rng.choice(SORTS),
                "order": rng.choice(ORDERS),
                "filter": None,
            },
        ),
        "feature_detail": lambda rng: request_body(
            FEATURE_DETAIL, {"runId": run_id, "index": rng.randrange(n_features)}
        ),
        "search": lambda rng: request_body(
            SEARCH, {"runId": run_id, "query": rng.choice(SEARCH_WORDS), "first": 30}
        ),
        "analysePrompt": lambda rng: request_body(
            ANALYSE_PROMPT, {"runId": run_id, "text": prompt, "topK": TOP_K}
        ),
        "steer": lambda rng: request_body(
            STEER,
            {
                "runId": run_id,
                "prompt": prompt,
                "maxNewTokens": STEER_NEW_TOKENS,
                "temperature": 0.0,
                "seed": 0,
                "interventions": [
                    {"feature": steered[0], "kind": "STEER", "value": STEER_MULTIPLE * steered[1]}
                ],
            },
        ),  # fmt: skip
        "attribute": lambda rng: request_body(ATTRIBUTE, {"runId": run_id, "prompt": prompt}),
    }


# --------------------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of already sorted values."""
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def _p50_ms(latencies_s: list[float]) -> float | None:
    return round(percentile(sorted(latencies_s), 50) * 1000, 2) if latencies_s else None


def client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    server: Server, name: str, make_body: Body, clients: int, duration_s: float, cache: str, seen: set[str]
) -> dict[str, Any]:
    """One operation under load: latency percentiles, throughput, errors, CPU shares and the goals."""
    load_avg = os.getloadavg()[0]
    cpu0, server0, wall0 = client_cpu_s(), server.cpu_s(), time.perf_counter()
    result = asyncio.run(run_load(server.port, make_body, clients, duration_s, seen))
    wall = time.perf_counter() - wall0
    client_cpu, server_cpu = client_cpu_s() - cpu0, server.cpu_s() - server0
    lat = sorted(result.latencies_s)
    if not lat:
        raise SystemExit(f"bench: {name}: no request completed ({result.first_error})")
    row: dict[str, Any] = {
        "operation": name,
        "clients": clients,
        "duration_s": round(wall, 2),
        "requests": len(lat),
        "errors": result.errors,
        "p50_ms": round(percentile(lat, 50) * 1000, 2),
        "p95_ms": round(percentile(lat, 95) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "rps": round(len(lat) / wall, 1),
        "cache": cache,
        "repeat_share": round(result.repeats / (len(lat) + result.errors), 3),
        "first_seen_requests": len(result.first_latencies_s),
        "first_seen_p50_ms": _p50_ms(result.first_latencies_s),
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "server_cpu_pct": round(100 * server_cpu / wall, 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / len(lat), 2),
        "load_avg_1m": round(load_avg, 2),
    }
    if result.first_error:
        row["first_error"] = result.first_error
    return with_goals(row, GOALS.get(name, {}))


def with_goals(row: dict[str, Any], limits: dict[str, float]) -> dict[str, Any]:
    goals = {f"{key} <= {limit:g}": bool(row[key] <= limit) for key, limit in limits.items()}
    goals["errors == 0"] = row["errors"] == 0
    return {**row, "goals": goals, "goal_met": all(goals.values())}


def make_prompt(model: Any) -> str:
    """An English prompt of exactly PROMPT_TOKENS tokens for the run's tokenizer."""
    ids = model.lm.tokenizer(PROMPT_SENTENCE * 8, add_special_tokens=False)["input_ids"]
    text: str = model.lm.tokenizer.decode(ids[:PROMPT_TOKENS])
    n = model.count_tokens(text)
    if n != PROMPT_TOKENS:
        raise SystemExit(f"bench: the prompt has {n} tokens, expected {PROMPT_TOKENS}")
    return text


def load_model(seeded: Seeded, run_id: str) -> Any:
    """The run's LiveModel, loaded the way the gateway loads it."""
    os.environ.update(store_env(seeded))
    from services.gateway.live import freeze_heap, load_live_model, run_sae_dir
    from shared.db.session import get_sessionmaker
    from shared.settings import get_settings
    from shared.store import get_store

    get_settings.cache_clear()
    settings = get_settings()
    model = load_live_model(run_sae_dir(run_id, get_sessionmaker(settings.database), get_store(settings)))
    freeze_heap()  # as the gateway does after a load: the bare timing must not pay for GC scans of the LM's objects
    return model


def bare_encode_ms(model: Any, prompt: str, duration_s: float) -> float:
    """p50 of ``LiveModel.encode`` (tokenise + LM to the hook + SAE encode), one call at a time in a thread."""

    async def timed() -> list[float]:
        times: list[float] = []
        for _ in range(5):
            await asyncio.to_thread(model.encode, prompt, 256)
        deadline = time.perf_counter() + duration_s
        while time.perf_counter() < deadline or len(times) < 20:
            start = time.perf_counter()
            await asyncio.to_thread(model.encode, prompt, 256)
            times.append(time.perf_counter() - start)
        return times

    return statistics.median(asyncio.run(timed())) * 1000


def bare_generate(model: Any, prompt: str, rows: int = 2) -> Callable[[], Any]:
    """The bare model's generation: ``generate`` on ``rows`` copies of the prompt (BOS first, as steer runs it),
    32 new tokens, greedy, KV cache, no SAE. Two rows are the like-for-like baseline of ``steer`` (its answer is
    two continuations, the clean and the steered one, computed as one batch of two rows); one row is a single
    continuation, reported beside it."""
    import torch

    lm = model.lm
    ids = [lm.bos_token_id, *lm.tokenizer(prompt, add_special_tokens=False)["input_ids"]]
    batch = torch.tensor([ids] * rows)

    def run() -> Any:
        with lm.exclusive(), torch.inference_mode():
            return lm.model.generate(
                batch, attention_mask=torch.ones_like(batch), max_new_tokens=STEER_NEW_TOKENS,
                min_new_tokens=STEER_NEW_TOKENS, do_sample=False, pad_token_id=lm.eos_token_id,
            )  # fmt: skip

    return run


def bare_forward_backward(model: Any, prompt: str, head_row: bool = False) -> Callable[[], Any]:
    """The bare gradient pass: the full forward with the hook activation as a leaf (the head on the last position
    only, as attribution runs it), the top token's logit there, its gradient to that activation. ``head_row``: the
    backward starts from the top token's row of the unembedding (``h . W_U[t]``, as attribution's does on a head
    with nothing after it) instead of a one-hot through the whole head (the plain pass a user would write)."""
    import torch

    lm = model.lm
    ids = torch.tensor([[lm.bos_token_id, *lm.tokenizer(prompt, add_special_tokens=False)["input_ids"]]])
    head = lm.model.get_output_embeddings()

    def run() -> Any:
        held: list[Any] = []

        def leaf(x: Any) -> Any:
            held.append(x.detach().requires_grad_(True))
            return held[0]

        def keep(_module: Any, args: tuple[Any, ...]) -> None:
            held.append(args[0])

        handle = head.register_forward_pre_hook(keep) if head_row else None
        try:
            with torch.enable_grad(), lm.patching(model.hook, leaf):
                logits = lm.model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[0, -1]
                top = int(logits.argmax())
                logit = held[1][0, -1] @ head.weight[top] if head_row else logits[top]
                return torch.autograd.grad(logit, held[0])
        finally:
            if handle is not None:
                handle.remove()

    return run


def process_cpu_s() -> float:
    """CPU seconds of this process, all threads (torch's intra-op threads included)."""
    return client_cpu_s()


async def _timed_bare(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one ``fn()`` in a worker thread, as the gateway runs it."""
    cpu, start = process_cpu_s(), time.perf_counter()
    await asyncio.to_thread(fn)
    return time.perf_counter() - start, process_cpu_s() - cpu


async def _timed_request(server: Server, conn: HttpConnection, body: bytes) -> tuple[float, float]:
    """(wall s, server CPU s) of one request; a failed request ends the bench."""
    cpu, start = server.cpu_s(), time.perf_counter()
    status, answer = await conn.post(body)
    wall, used = time.perf_counter() - start, server.cpu_s() - cpu
    failure = answer_error(status, answer)
    if failure is not None:
        raise SystemExit(f"bench: request failed: {failure}")
    return wall, used


def interleaved(
    server: Server,
    name: str,
    make_body: Body,
    bare: dict[str, Callable[[], Any]],
    rounds: int,
    duration_s: float,
    cache: str,
) -> list[dict[str, Any]]:
    """Same-window overhead at 1 client: rounds of [one gateway request, one call of each bare baseline], the
    order reversed every other round (A B B A ...), until ``duration_s`` has passed and at least ``rounds``
    rounds ran. Overhead = median gateway wall / median bare wall - 1; the median of the per-round ratios and
    the CPU-time ratio (server CPU per request / this process's CPU per bare call, both with torch's threads)
    beside it: under load the CPU figures move less than the wall times. One row per baseline."""

    async def run() -> tuple[list[tuple[float, float]], dict[str, list[tuple[float, float]]]]:
        conn = HttpConnection(server.port)
        ours: list[tuple[float, float]] = []
        theirs: dict[str, list[tuple[float, float]]] = {key: [] for key in bare}

        async def request() -> tuple[float, float]:
            # a new connection per request: a real model's bare calls outlast uvicorn's 5 s keep-alive, which
            # closes an idle connection under the next request (a local connect costs well under a millisecond)
            try:
                return await _timed_request(server, conn, make_body(random.Random(0))[1])
            finally:
                await conn.close()

        try:
            for fn in bare.values():  # warm-up: first calls allocate and fill caches
                await _timed_bare(fn)
            await request()
            deadline = time.perf_counter() + duration_s
            while len(ours) < rounds or time.perf_counter() < deadline:
                gateway_first = len(ours) % 2 == 0
                if gateway_first:
                    ours.append(await request())
                for key, fn in bare.items():
                    theirs[key].append(await _timed_bare(fn))
                if not gateway_first:
                    ours.append(await request())
        finally:
            await conn.close()
        return ours, theirs

    load_before = os.getloadavg()[0]
    ours, theirs = asyncio.run(run())
    load_after = os.getloadavg()[0]
    out = []
    for key, times in theirs.items():
        ratios = [a[0] / b[0] for a, b in zip(ours, times, strict=True)]
        wall_ratio = statistics.median(a for a, _ in ours) / statistics.median(b for b, _ in times)
        cpu_ratio = statistics.median(c for _, c in ours) / statistics.median(c for _, c in times)
        overhead = wall_ratio - 1
        out.append({
            "measurement": f"{name}_overhead", "baseline": key, "clients": 1, "cache": cache, "rounds": len(ours),
            "gateway_p50_ms": round(statistics.median(a for a, _ in ours) * 1000, 1),
            "bare_p50_ms": round(statistics.median(b for b, _ in times) * 1000, 1),
            "gateway_ms": [round(a * 1000) for a, _ in ours], "bare_ms": [round(b * 1000) for b, _ in times],
            "overhead": round(overhead, 3), "median_round_ratio": round(statistics.median(ratios), 3),
            "server_cpu_ms_per_request": round(statistics.median(c for _, c in ours) * 1000, 1),
            "bare_cpu_ms": round(statistics.median(c for _, c in times) * 1000, 1),
            "cpu_overhead": round(cpu_ratio - 1, 3),
            "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
            "goals": {f"overhead <= {OVERHEAD_GOAL:g}": overhead <= OVERHEAD_GOAL},
            "goal_met": overhead <= OVERHEAD_GOAL,
        })  # fmt: skip
    return out


def overhead_row(
    bare_ms: float, gateway: dict[str, Any], cache: str, name: str = "analysePrompt"
) -> dict[str, Any]:
    overhead = gateway["p50_ms"] / bare_ms - 1
    return {
        "measurement": f"{name}_overhead",
        "bare_ms": round(bare_ms, 2),
        "gateway_p50_ms": gateway["p50_ms"],
        "overhead": round(overhead, 3),
        "clients": 1,
        "cache": cache,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "goals": {f"overhead <= {OVERHEAD_GOAL:g}": overhead <= OVERHEAD_GOAL},
        "goal_met": overhead <= OVERHEAD_GOAL,
    }


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def warm_up(port: int, bodies: dict[str, Body], seen: set[str]) -> None:
    """One request of each operation, awaited (the first analysePrompt loads the LM + SAE; a timed run that starts
    while that load still runs in the server measures the load, not the operation), then a second of each."""
    for body in bodies.values():
        payload = json.loads(body(random.Random(0))[0])
        graphql_sync(port, payload["query"], payload["variables"])
    for body in bodies.values():
        result = asyncio.run(run_load(port, body, clients=2, duration_s=1.0, seen=seen))
        if result.errors:
            raise SystemExit(f"bench: warm-up failed: {result.first_error}")


def run_server_phase(
    args: argparse.Namespace,
    seeded: Seeded,
    workdir: Path,
    cache_s: float | None,
    emit: Callable[[dict[str, Any]], None],
) -> None:
    """Start one gateway, benchmark every operation against it, and the analysePrompt overhead."""
    cache = "default (30 s TTL)" if cache_s is None else f"off (RESPONSE_CACHE_S={cache_s:g})"
    with gateway(seeded, cache_s, workdir, "cache-default" if cache_s is None else "cache-off") as server:
        run_id, n_features = pick_run(server.port, args.run_id)
        model = load_model(seeded, run_id)
        prompt = make_prompt(model)
        bodies = operations(run_id, n_features, prompt, strongest_feature(server.port, run_id))
        seen: set[str] = set()
        warm_up(server.port, bodies, seen)
        print(f"bench: run {run_id} ({n_features} features), cache {cache}", file=sys.stderr)
        for name, body in bodies.items():
            if name not in args.operations or name in SINGLE_CLIENT:
                continue
            emit(measure(server, name, body, args.clients, args.duration, cache, seen))
        if "analysePrompt" in args.operations:
            bare = bare_encode_ms(model, prompt, args.single_duration / 2)
            single = measure(
                server, "analysePrompt", bodies["analysePrompt"], 1, args.single_duration, cache, seen
            )
            emit(single)
            emit(overhead_row(bare, single, cache))
        baselines = {
            "steer": {"generate, 2 rows": bare_generate(model, prompt, 2),
                      "generate, 1 row": bare_generate(model, prompt, 1)},
            "attribute": {"forward + backward": bare_forward_backward(model, prompt),
                          "forward + backward, target row": bare_forward_backward(model, prompt, head_row=True)},
        }  # fmt: skip
        for name in SINGLE_CLIENT:
            if name in args.operations:
                rows = interleaved(
                    server, name, bodies[name], baselines[name], args.rounds, args.single_duration, cache
                )
                for row in rows:
                    emit(row)
                    print(
                        f"bench: {name} vs bare {row['baseline']}: overhead {row['overhead']:+.1%} (gateway "
                        f"{row['gateway_p50_ms']:.0f} ms / bare {row['bare_p50_ms']:.0f} ms, median round ratio "
                        f"{row['median_round_ratio']:.3f}, CPU {row['cpu_overhead']:+.1%}; {row['rounds']} "
                        f"interleaved rounds, load {row['load_avg_1m'][0]}-{row['load_avg_1m'][1]})",
                        file=sys.stderr,
                    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_run_arguments(parser, "benchmark")
    parser.add_argument(
        "--model",
        default="smollm2",
        help="LM of the seeded run: 'smollm2' (default: SmolLM2-135M, the offline stand-in for GPT-2 small, so the "
        "analysePrompt overhead is measured against a real forward) or 'tiny' (dev_seed's tiny random GPT-2: "
        "quicker to seed, but its ~4 ms forward makes any fixed overhead a large percentage)",
    )
    parser.add_argument(
        "--hook", help="hook of the seeded run with --model (default blocks.15.hook_resid_pre)"
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per operation (default 20)")
    parser.add_argument(
        "--single-duration", type=float, default=10.0, help="seconds of 1-client analysePrompt (default 10)"
    )
    parser.add_argument(
        "--cache", choices=("both", "default", "off"), default="both", help="response cache runs"
    )
    parser.add_argument(
        "--operations",
        type=lambda text: text.split(","),
        default=list(GOALS),
        help=f"comma-separated subset of {','.join(GOALS)} (default: all)",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="least interleaved rounds of steer / attribute (default 5)"
    )
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (gateway logs)")
    parser.add_argument("--reseed", action="store_true", help="seed a fresh run instead of the cached one")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.operations) - set(GOALS))
    if unknown:
        parser.error(f"--operations: unknown {unknown} (known: {', '.join(GOALS)})")
    if args.d_sae < MIN_FEATURES:
        parser.error(f"--d-sae: the benchmark needs >= {MIN_FEATURES} features (got {args.d_sae})")
    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the gateway subprocess on kill too

    report = functools.partial(emit, out=args.out)
    workdir = Path(tempfile.mkdtemp(prefix="saelab-gateway-bench-"))
    try:
        seeded = reused_seed(args.db, args.artifacts) if args.db is not None else cached_seed(args)
        phases = {"both": (None, 0.0), "default": (None,), "off": (0.0,)}[args.cache]
        for cache_s in phases:
            run_server_phase(args, seeded, workdir, cache_s, report)
    finally:
        if args.keep:
            print(f"bench: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

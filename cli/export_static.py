"""`saelab export-static`: the built web client plus one run's data as static JSON, browsable with no API.

The data is produced by running the gateway's own GraphQL queries in-process, so every file has exactly the
fields and meanings the live API serves (layout: web/README.md, "Static export"; types: web/src/static/types.ts).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from cli.errors import CliError
from shared.progress import ProgressSink, report

FORMAT = "saelab-static/1"
MARKER = '<script id="saelab-static" type="application/json">null</script>'
PAGE = 200

SUMMARY_FIELDS = "index label grade labelScore density log10Density meanActivation maxActivation"
RUN_QUERY = """query($id: ID!) { run(id: $id) {
  id name status createdAt datasetId model hook architecture dIn dSae config analysed featureCount grades
  eval { explainedVariance l0 mse ceLossRecovered ceLossClean ceLossReconstructed ceLossZeroAblated klDivergence
         deadFraction denseFraction }
  metrics { step loss mse l1 l0 explainedVariance deadFraction denseFraction lr tokensPerS }
  densityHistogram { edges counts zeroFraction }
} }"""
PAGE_QUERY = f"""query($run: ID!, $page: Int!, $first: Int!) {{
  features(runId: $run, page: $page, first: $first) {{ totalCount nodes {{ {SUMMARY_FIELDS} }} }}
}}"""
EXAMPLE = "tokens activations maxPosition maxActivation quantile"
FEATURE_QUERY = f"""query($run: ID!, $index: Int!) {{ feature(runId: $run, index: $index) {{
  {SUMMARY_FIELDS} labelSource labelDescription nActive dead dense
  topTokens {{ token value }}
  explanations {{ id text description method model author editable sampleSize sampleUnit
                  scores {{ name value ciLow ciHigh n unit reason help }} }}
  histogram {{ edges counts zeroFraction }}
  topExamples {{ {EXAMPLE} }}
  quantileSamples {{ {EXAMPLE} }}
  logitLens {{ top {{ token value }} bottom {{ token value }} }}
  decoderNeighbours {{ index label score }}
  coactivationNeighbours {{ index label score }}
}} }}"""


class _Gateway:
    """Runs read-only operations through the gateway schema, in this process, on the configured database."""

    def __init__(self) -> None:
        from services.gateway.app import build_state
        from services.gateway.context import Context
        from services.gateway.schema import build_schema
        from services.gateway.settings import GatewaySettings
        from shared.settings import get_settings

        settings = GatewaySettings()
        self._state = build_state(settings, get_settings())
        self._schema = build_schema(settings)
        self._context = Context

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        context = self._context(self._state, client="export-static", authorization=None)
        result = asyncio.run(self._schema.execute(query, variable_values=variables, context_value=context))
        if result.errors:
            raise CliError(f"export-static: {result.errors[0].message}")
        return result.data or {}


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(",", ":")))


def _search_entry(detail: dict[str, Any]) -> dict[str, Any]:
    tokens = [ex["tokens"][ex["maxPosition"]] for ex in detail["topExamples"]]
    if detail["logitLens"]:
        tokens += [t["token"] for t in detail["logitLens"]["top"]]
    return {
        "index": detail["index"],
        "label": detail["label"],
        "grade": detail["grade"],
        "density": detail["density"],
        "tokens": list(dict.fromkeys(tokens)),
        "examples": ["".join(ex["tokens"]) for ex in detail["topExamples"][:5]],
    }


def export_static(run_id: str, out: Path, dist: Path, progress: ProgressSink | None = None) -> Path:
    """Write ``dist`` (the built client) + ``data/`` for ``run_id`` into ``out``; returns ``out``."""
    index_html = dist / "index.html"
    if not index_html.is_file():
        raise CliError(f"export-static: no built web client at {dist} (run `npm run build` in web/)")
    html = index_html.read_text()
    if MARKER not in html:
        raise CliError(f"export-static: {index_html} has no static-export marker (rebuild the web client)")
    gateway = _Gateway()
    run = gateway.data(RUN_QUERY, id=run_id).get("run")
    if run is None:
        raise CliError(f"export-static: run {run_id!r} not found (see `saelab jobs` or the runs query)")
    if not run["analysed"]:
        raise CliError(f"export-static: run {run_id!r} has no analysis results yet (run `saelab analyse`)")

    features: list[dict[str, Any]] = []
    page, total = 1, None
    while total is None or len(features) < total:
        conn = gateway.data(PAGE_QUERY, run=run_id, page=page, first=PAGE)["features"]
        total = conn["totalCount"]
        if not conn["nodes"]:
            break
        features += conn["nodes"]
        page += 1

    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(dist, staging)
    data = staging / "data"
    (data / "features").mkdir(parents=True)
    search = []
    for n, row in enumerate(features, 1):
        detail = gateway.data(FEATURE_QUERY, run=run_id, index=row["index"])["feature"]
        _write(data / "features" / f"{row['index']}.json", detail)
        search.append(_search_entry(detail))
        report(progress, n, len(features), "features")
    _write(data / "run.json", run)
    _write(data / "features.json", features)
    _write(data / "search-index.json", search)
    marker = MARKER.replace("null", json.dumps({"format": FORMAT, "data": "data/", "runId": run_id}))
    (staging / "index.html").write_text(html.replace(MARKER, marker))
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out

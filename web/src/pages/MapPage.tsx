/** `/runs/:runId/map` The dictionary map: every feature placed by its decoder direction, coloured by density. */
import { useState } from "react";
import { Link, useParams } from "react-router";
import { isStaticMode } from "../api/staticMode";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { FeatureMap } from "../components/FeatureMap";
import { PageTools } from "../components/PageTools";
import { SkeletonBlock } from "../components/Skeleton";
import { StaticNotice } from "../components/StaticNotice";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFeatureMap } from "../hooks/useFeatureMap";
import { pageTitle } from "../lib/pageTitle";
import { explorerPath, runPath } from "../lib/routes";

export function MapPage() {
  const { runId = "" } = useParams();
  const map = useFeatureMap(isStaticMode() ? "" : runId);
  const [hideDead, setHideDead] = useState(true);
  useDocumentTitle(pageTitle("Dictionary map", runId));

  const head = (
    <div className="page-head">
      <h1>Dictionary map</h1>
      <div className="row">
        <Link to={explorerPath(runId)} className="small">
          ← Explorer
        </Link>
        <Link to={runPath(runId)} className="small">
          Run summary
        </Link>
      </div>
    </div>
  );
  if (isStaticMode()) return <div className="stack">{head}<StaticNotice feature="The dictionary map" /></div>;
  if (map.error && !map.points.length) return <div className="stack">{head}<ErrorState what="the dictionary map" error={map.error} onRetry={map.retry} /></div>;
  if (map.fetching) return <div className="stack">{head}<SkeletonBlock height={400} label="Loading the map" /></div>;
  if (!map.points.length)
    return (
      <div className="stack">
        {head}
        <EmptyState title="No map for this run">Its analysis made none (not analysed yet, or analysed with map_epochs 0).</EmptyState>
      </div>
    );
  return (
    <div className="stack" data-testid="map-page">
      {head}
      <PageTools query={map.apiQuery}>
        <label className="row small" style={{ gap: "0.2rem" }}>
          <input type="checkbox" checked={hideDead} onChange={(e) => setHideDead(e.target.checked)} />
          hide dead
        </label>
      </PageTools>
      <FeatureMap runId={runId} points={map.points} hideDead={hideDead} />
    </div>
  );
}

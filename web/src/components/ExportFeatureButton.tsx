/** Download everything the feature page shows about a feature as one JSON file. */
import { downloadText, fileSafe } from "../lib/download";
import { featureJson } from "../lib/featureExport";

export function ExportFeatureButton({ feature }: { feature: { runId: string; index: number } }) {
  return (
    <button
      type="button"
      className="small"
      onClick={() => downloadText(`saelab-${fileSafe(feature.runId)}-feature-${feature.index}.json`, "application/json", featureJson(feature, window.location.href))}
    >
      Export JSON
    </button>
  );
}

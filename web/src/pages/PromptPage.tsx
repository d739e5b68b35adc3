/** `/prompt` Prompt analyser: per-token heatmap, click a token for its top features, re-shade by one feature. */
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { isStaticMode } from "../api/staticMode";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { RunPicker } from "../components/RunPicker";
import { Section } from "../components/Section";
import { ShadedText } from "../components/ShadedText";
import { SkeletonLines } from "../components/Skeleton";
import { StaticNotice } from "../components/StaticNotice";
import { TokenFeatureList } from "../components/TokenFeatureList";
import { useCurrentRun } from "../hooks/useCurrentRun";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useFeatureTrace } from "../hooks/useFeatureTrace";
import { usePromptAnalysis } from "../hooks/usePromptAnalysis";
import { useUrlParams } from "../hooks/useUrlParams";
import { featurePath } from "../lib/routes";

export function PromptPage() {
  if (isStaticMode())
    return (
      <div className="stack">
        <h1>Prompt analyser</h1>
        <StaticNotice feature="The prompt analyser" />
      </div>
    );
  return <LivePromptPage />;
}

function LivePromptPage() {
  const current = useCurrentRun();
  const { get, update } = useUrlParams();
  const [text, setText] = useState(get("text") ?? "");
  const debounced = useDebouncedValue(text, 400);
  const [selected, setSelected] = useState<number | null>(null);
  const [shadeBy, setShadeBy] = useState<number | null>(null);
  const analysis = usePromptAnalysis(current.runId, debounced);
  const trace = useFeatureTrace(current.runId, shadeBy, debounced);

  useEffect(() => {
    update({ text: debounced || null }, { replace: true });
    setSelected(null);
  }, [debounced]); // eslint-disable-line react-hooks/exhaustive-deps -- mirror the settled text only

  if (current.error && !current.runs) return <ErrorState what="the list of runs" error={current.error} onRetry={current.retry} />;
  if (current.fetching) return <SkeletonLines lines={6} />;
  if (!current.runId || !current.runs?.length) return <EmptyState title="No runs yet">Train one on the <Link to="/jobs">Jobs</Link> page first.</EmptyState>;

  const tokens = analysis.tokens;
  const byFeature = shadeBy !== null && trace.trace && trace.trace.tokens.length === tokens?.length;
  const values = byFeature ? trace.trace!.activations : (tokens?.map((t) => t.maxActivation) ?? []);
  const sel = selected !== null ? tokens?.[selected] : undefined;

  return (
    <div className="stack">
      <div className="page-head">
        <h1>Prompt analyser</h1>
        <RunPicker runs={current.runs} value={current.runId} onChange={current.setRun} />
      </div>
      <textarea rows={4} aria-label="Prompt" placeholder="Type text to see which features fire on each token…" value={text} onChange={(e) => setText(e.target.value)} />
      <Section
        title="Heatmap"
        testId="prompt-heatmap"
        actions={
          <span className="small muted">
            {shadeBy !== null ? (
              <>
                shaded by <Link to={featurePath(current.runId, shadeBy)}>#{shadeBy}</Link>{" "}
                <button type="button" className="small" onClick={() => setShadeBy(null)}>
                  show strongest feature
                </button>
              </>
            ) : (
              "shaded by each token's strongest feature; click a token"
            )}
          </span>
        }
      >
        {analysis.error ? (
          <ErrorState what="the prompt analysis" error={analysis.error} onRetry={analysis.retry} />
        ) : !debounced.trim() ? (
          <EmptyState title="Type a prompt above" />
        ) : !tokens ? (
          <SkeletonLines lines={2} label="Analysing" />
        ) : (
          <div style={{ opacity: analysis.fetching || text !== debounced ? 0.6 : 1 }}>
            <ShadedText tokens={tokens.map((t) => t.token)} activations={values} onTokenClick={setSelected} selected={selected} label="Prompt heatmap" />
            {trace.error && <div className="error-text small">{trace.error.message}</div>}
          </div>
        )}
      </Section>
      {sel && (
        <Section title="Token">
          <TokenFeatureList runId={current.runId} token={sel.token} position={sel.position} features={sel.features} shadeBy={shadeBy} onShadeBy={setShadeBy} />
          <div className="small muted">{sel.l0} features active on this token.</div>
        </Section>
      )}
    </div>
  );
}

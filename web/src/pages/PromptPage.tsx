/**
 * `/prompt` Prompt analyser: every active feature per token, features ranked over the whole prompt, and shading
 * modes that stay readable when every token has the same number of active features (TopK). Text, shading, the
 * selected token and the ranking live in the URL.
 */
import { useEffect, useMemo, useState } from "react";
import { LiveOnly } from "../components/LiveOnly";
import { AttributionPanel } from "../components/AttributionPanel";
import { EmptyState } from "../components/EmptyState";
import { NoRuns } from "../components/NoRuns";
import { ErrorState } from "../components/ErrorState";
import { PageTools } from "../components/PageTools";
import { PromptFeatureRanking } from "../components/PromptFeatureRanking";
import { RunPicker } from "../components/RunPicker";
import { Section } from "../components/Section";
import { ShadeControls } from "../components/ShadeControls";
import { ShadedText } from "../components/ShadedText";
import { SkeletonLines } from "../components/Skeleton";
import { TokenFeatureList } from "../components/TokenFeatureList";
import { useCurrentRun } from "../hooks/useCurrentRun";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFeatureTrace } from "../hooks/useFeatureTrace";
import { PROMPT_TOP_K, usePromptAnalysis } from "../hooks/usePromptAnalysis";
import { usePromptState } from "../hooks/usePromptState";
import { pageTitle } from "../lib/pageTitle";
import { defaultCountThreshold, listsComplete, rankPromptFeatures, shadeByCount, shadeByFeatures, shadeByMax, type Shading } from "../lib/promptFeatures";

export function PromptPage() {
  return (
    <LiveOnly title="Prompt analyser" feature="The prompt analyser">
      <LivePromptPage />
    </LiveOnly>
  );
}

function LivePromptPage() {
  const current = useCurrentRun();
  const { state, set, toggleShadeFeature } = usePromptState();
  const [text, setText] = useState(state.text);
  const debounced = useDebouncedValue(text, 400);
  const analysis = usePromptAnalysis(current.runId, debounced);
  const single = state.shade === "features" && state.features.length === 1 ? state.features[0] : null;
  const trace = useFeatureTrace(current.runId, single, debounced);
  useDocumentTitle(pageTitle(state.text.trim() ? `Prompt “${state.text.trim()}”` : "Prompt analyser", current.run?.name));

  useEffect(() => {
    // settled typing goes to the URL; a new text drops the selected token (a shared link keeps its own)
    if (debounced !== state.text) set({ text: debounced, token: null });
  }, [debounced]); // eslint-disable-line react-hooks/exhaustive-deps -- mirror the settled text only

  const tokens = analysis.tokens;
  const ranked = useMemo(() => (tokens ? rankPromptFeatures(tokens, state.rank) : []), [tokens, state.rank]);
  const autoThreshold = useMemo(() => (tokens ? defaultCountThreshold(tokens) : 0), [tokens]);
  const threshold = state.threshold ?? autoThreshold;

  if (current.error && !current.runs) return <ErrorState what="the list of runs" error={current.error} onRetry={current.retry} />;
  if (current.fetching) return <SkeletonLines lines={6} />;
  if (!current.runId || !current.runs?.length) return <NoRuns />;

  let shading: Shading | null = null;
  if (tokens) {
    if (state.shade === "count") shading = shadeByCount(tokens, threshold);
    else if (state.shade === "features" && single !== null && trace.trace && trace.trace.tokens.length === tokens.length)
      shading = { values: trace.trace.activations, exact: true, unit: `activation of #${single}` };
    else if (state.shade === "features") shading = shadeByFeatures(tokens, state.features);
    else shading = shadeByMax(tokens);
  }
  const sel = state.token !== null ? tokens?.[state.token] : undefined;
  const complete = tokens ? listsComplete(tokens) : true;
  const pending = analysis.fetching || text !== debounced || (single !== null && trace.fetching);

  return (
    <div className="stack">
      <div className="page-head">
        <h1>Prompt analyser</h1>
        <RunPicker runs={current.runs} value={current.runId} onChange={current.setRun} />
      </div>
      <textarea rows={4} aria-label="Prompt" placeholder="Type text to see which features fire on each token…" value={text} onChange={(e) => setText(e.target.value)} />
      <PageTools query={debounced.trim() ? analysis.apiQuery : null} />
      <Section title="Heatmap" testId="prompt-heatmap">
        {analysis.error ? (
          <ErrorState what="the prompt analysis" error={analysis.error} onRetry={analysis.retry} />
        ) : !debounced.trim() ? (
          <EmptyState title="Type a prompt above" />
        ) : !tokens || !shading ? (
          <SkeletonLines lines={2} label="Analysing" />
        ) : (
          <div className="stack" style={{ gap: "0.6rem", opacity: pending ? 0.6 : 1 }} data-testid="heatmap-body" data-pending={pending}>
            <ShadeControls
              runId={current.runId}
              mode={state.shade}
              features={state.features}
              threshold={threshold}
              onMode={(shade) => set({ shade })}
              onThreshold={(x) => set({ threshold: x, shade: "count" })}
              onClearFeatures={() => set({ features: [], shade: "max" })}
            />
            <ShadedText tokens={tokens.map((t) => t.token)} activations={shading.values} onTokenClick={(token) => set({ token })} selected={state.token} label="Prompt heatmap" valueName={shading.unit} />
            <div className="small muted" data-testid="shading-note">
              Shaded by {shading.unit}; click a token to list its features.
              {!shading.exact && ` Values are lower bounds: the server lists at most ${PROMPT_TOP_K} features per token.`}
            </div>
            {trace.error && <div className="error-text small">{trace.error.message}</div>}
          </div>
        )}
      </Section>
      {sel && (
        <Section title="Token">
          <TokenFeatureList runId={current.runId} token={sel.token} position={sel.position} l0={sel.l0} features={sel.features} cap={PROMPT_TOP_K} shading={state.features} onToggleShade={toggleShadeFeature} />
        </Section>
      )}
      {sel && tokens && (
        <Section title="What predicts this token" testId="token-attribution">
          <AttributionPanel key={`${debounced}\u0000${sel.position}`} runId={current.runId} tokens={tokens.map((t) => t.token)} position={sel.position} />
        </Section>
      )}
      {tokens && ranked.length > 0 && (
        <Section title="Features over the whole prompt">
          <PromptFeatureRanking
            runId={current.runId}
            ranked={ranked}
            rank={state.rank}
            onRank={(rank) => set({ rank })}
            tokens={tokens.map((t) => t.token)}
            shading={state.features}
            onToggleShade={toggleShadeFeature}
            onSelectToken={(token) => set({ token })}
            complete={complete}
          />
        </Section>
      )}
    </div>
  );
}

/** `/runs/:runId/features/:index` Feature detail: label (editable), explanations, stats, histogram, examples, logit lens, neighbours. */
import { useParams } from "react-router";
import { actionableMessage } from "../api/errors";
import { isStaticMode } from "../api/staticMode";
import { BookmarkButton } from "../components/BookmarkButton";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ExampleList } from "../components/ExampleList";
import { ExplainFeatureForm } from "../components/ExplainFeatureForm";
import { ExplanationList } from "../components/ExplanationList";
import { ExportFeatureButton } from "../components/ExportFeatureButton";
import { FeatureNav } from "../components/FeatureNav";
import { FeatureNotFound } from "../components/FeatureNotFound";
import { HistogramChart } from "../components/HistogramChart";
import { LabelEditor } from "../components/LabelEditor";
import { LogitLensTable } from "../components/LogitLensTable";
import { NeighbourList } from "../components/NeighbourList";
import { PageTools } from "../components/PageTools";
import { PromptTester } from "../components/PromptTester";
import { QuantileSamples } from "../components/QuantileSamples";
import { ScoreLegend } from "../components/ScoreLegend";
import { Section } from "../components/Section";
import { SkeletonBlock, SkeletonLines } from "../components/Skeleton";
import { StatCards } from "../components/StatCards";
import { SteerPanel } from "../components/SteerPanel";
import { StaticNotice } from "../components/StaticNotice";
import { TopTokens } from "../components/TopTokens";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useExplanationEdits } from "../hooks/useExplanations";
import { useFeature } from "../hooks/useFeature";
import { useRelabel } from "../hooks/useRelabel";
import { useRunFacts } from "../hooks/useRunFacts";
import { offlineF1 } from "../lib/explanations";
import { fmtDensity, fmtNumber } from "../lib/format";
import { pageTitle } from "../lib/pageTitle";
import { DENSE_HELP, DENSITY_HELP, F1_HELP, fmtScore, scoreTitle } from "../lib/scores";

function parseIndex(raw: string | undefined): number | null {
  return raw !== undefined && /^\d+$/.test(raw) ? Number.parseInt(raw, 10) : null;
}

export function FeaturePage() {
  const { runId = "", index: rawIndex } = useParams();
  const index = parseIndex(rawIndex);
  const { feature, notFound, fetching, error, retry, apiQuery } = useFeature(runId, index);
  const facts = useRunFacts(runId);
  const { relabel, saving } = useRelabel();
  const explanationEdits = useExplanationEdits();
  const runName = facts.run?.name;
  useDocumentTitle(pageTitle(index === null ? "Feature" : `#${index}${feature?.label ? ` ${feature.label}` : ""}`, runName ?? runId));

  const dSae = facts.run?.dSae ?? null;
  const nav = <FeatureNav runId={runId} index={index} dSae={dSae} />;

  if (index === null) return <EmptyState title={`"${rawIndex}" is not a feature index`}>Feature indices are whole numbers from 0.</EmptyState>;
  if (error && !feature) return <>{nav}<ErrorState what={`feature #${index}`} error={error} onRetry={retry} /></>;
  if (fetching || (!feature && !notFound) || (notFound && facts.fetching))
    return (
      <div className="stack">
        {nav}
        <SkeletonLines lines={2} label="Loading feature" />
        <SkeletonBlock height={220} />
        <SkeletonLines lines={8} />
      </div>
    );
  if (!feature)
    return (
      <>
        {nav}
        <FeatureNotFound runId={runId} runName={runName} index={index} dSae={dSae} analysed={facts.run?.analysed ?? false} runAnswered={facts.answered} />
      </>
    );

  const scale = feature.maxActivation;
  const onSave = async (label: string) => {
    const r = await relabel(runId, feature.index, label);
    return r.error ? actionableMessage(r.error) : null;
  };
  const explanations = feature.explanations ?? [];
  const f1 = offlineF1(explanations);
  const edits = isStaticMode()
    ? null
    : {
        saving: explanationEdits.saving,
        add: async (text: string, description: string | null) => {
          const r = await explanationEdits.add(runId, feature.index, text, description);
          return r.error ? actionableMessage(r.error) : null;
        },
        edit: async (id: string, text: string, description: string | null) => {
          const r = await explanationEdits.edit(id, text, description);
          return r.error ? actionableMessage(r.error) : null;
        },
      };

  return (
    <div className="stack" data-testid="feature-page">
      {nav}
      <div className="stack" style={{ gap: "0.3rem" }}>
        <div className="muted small mono">
          feature #{feature.index} · run {runName ?? runId}
        </div>
        <LabelEditor label={feature.label} source={feature.labelSource} editable={!isStaticMode()} saving={saving} onSave={onSave} />
        <div className="row small">
          {feature.dead && <span className="badge bad" data-glyph="✕">dead: never fired</span>}
          {feature.dense && (
            <span className="badge warn" data-glyph="≋" data-testid="dense-flag" title={DENSE_HELP}>
              dense: fires on {fmtDensity(feature.density)} of tokens
            </span>
          )}
        </div>
        <PageTools query={apiQuery}>
          <BookmarkButton runId={runId} index={feature.index} label={feature.label} />
          <ExportFeatureButton feature={feature} />
        </PageTools>
      </div>
      <StatCards
        testId="feature-stats"
        stats={[
          { name: "density", value: fmtDensity(feature.density), hint: DENSITY_HELP },
          { name: "tokens fired on", value: (feature.nActive ?? 0).toLocaleString("en"), hint: "analysed tokens on which it fired" },
          { name: "mean activation", value: fmtNumber(feature.meanActivation, 3), hint: "mean over the tokens where it fires" },
          { name: "max activation", value: fmtNumber(feature.maxActivation, 3), hint: "largest activation on the analysed tokens" },
          {
            name: feature.dense ? "F1 of the offline label (held-out; dense feature)" : "F1 of the offline label (held-out)",
            value: f1 ? fmtScore(f1) : "—",
            hint: f1 ? scoreTitle(f1) : F1_HELP,
          },
        ]}
      />
      <Section title="Explanations" testId="explanations-section">
        <ExplanationList explanations={explanations} edits={edits} />
        {!isStaticMode() && <ExplainFeatureForm runId={runId} index={feature.index} onDone={retry} />}
        <ScoreLegend />
      </Section>
      <div className="grid-2">
        <Section title="Activation histogram">
          {feature.histogram ? (
            <HistogramChart histogram={feature.histogram} xLabel={`activation value over its ${(feature.nActive ?? 0).toLocaleString("en")} firings (log-spaced bins)`} zeroText="of analysed tokens at zero (not drawn)" />
          ) : (
            <div className="muted small">No histogram recorded.</div>
          )}
        </Section>
        <Section title="Logit lens">
          {feature.logitLens ? <LogitLensTable top={feature.logitLens.top} bottom={feature.logitLens.bottom} /> : <div className="muted small">No logit lens recorded.</div>}
        </Section>
      </div>
      <Section title="Fires most on">
        <TopTokens tokens={feature.topTokens ?? []} />
      </Section>
      <Section title="Test a prompt">{isStaticMode() ? <StaticNotice feature="Testing a prompt" /> : <PromptTester runId={runId} index={feature.index} scale={scale} />}</Section>
      <Section title="Steer">
        {isStaticMode() ? (
          <div className="small muted">Steering needs the live gateway (like testing a prompt, above).</div>
        ) : feature.dead ? (
          <div className="small muted">A dead feature cannot be steered: it never fired, so it has no activation scale.</div>
        ) : (
          <SteerPanel runId={runId} index={feature.index} maxActivation={feature.maxActivation} />
        )}
      </Section>
      <Section title="Top activating examples" testId="top-examples">
        <ExampleList examples={feature.topExamples} scale={scale} testId="top-examples-list" />
      </Section>
      <Section title="Across the activation range">
        <QuantileSamples samples={feature.quantileSamples} scale={scale} histogram={feature.histogram} />
      </Section>
      <div className="grid-2">
        <Section title="Neighbours">
          <NeighbourList runId={runId} title="By decoder cosine" items={feature.decoderNeighbours} testId="decoder-neighbours" />
        </Section>
        <Section title="Co-activating">
          <NeighbourList runId={runId} title="By co-activation (Jaccard)" items={feature.coactivationNeighbours} testId="coactivation-neighbours" />
        </Section>
      </div>
    </div>
  );
}

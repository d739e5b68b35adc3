/** `/runs/:runId/features/:index` Feature detail: label (editable), stats, histogram, examples, logit lens, neighbours. */
import { Link, useParams } from "react-router";
import { actionableMessage } from "../api/errors";
import { isStaticMode } from "../api/staticMode";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ExampleList } from "../components/ExampleList";
import { GradeBadge } from "../components/GradeBadge";
import { HistogramChart } from "../components/HistogramChart";
import { LabelEditor } from "../components/LabelEditor";
import { LogitLensTable } from "../components/LogitLensTable";
import { NeighbourList } from "../components/NeighbourList";
import { PromptTester } from "../components/PromptTester";
import { QuantileSamples } from "../components/QuantileSamples";
import { Section } from "../components/Section";
import { SkeletonBlock, SkeletonLines } from "../components/Skeleton";
import { StatCards } from "../components/StatCards";
import { StaticNotice } from "../components/StaticNotice";
import { TopTokens } from "../components/TopTokens";
import { useFeature } from "../hooks/useFeature";
import { useRelabel } from "../hooks/useRelabel";
import { fmtDensity, fmtNumber } from "../lib/format";
import { explorerPath, featurePath } from "../lib/routes";

function parseIndex(raw: string | undefined): number | null {
  return raw !== undefined && /^\d+$/.test(raw) ? Number.parseInt(raw, 10) : null;
}

export function FeaturePage() {
  const { runId = "", index: rawIndex } = useParams();
  const index = parseIndex(rawIndex);
  const { feature, notFound, fetching, error, retry } = useFeature(runId, index);
  const { relabel, saving } = useRelabel();

  const nav = (
    <div className="row small">
      <Link to={explorerPath(runId)}>← Explorer</Link>
      {index !== null && index > 0 && <Link to={featurePath(runId, index - 1)}>‹ #{index - 1}</Link>}
      {index !== null && <Link to={featurePath(runId, index + 1)}>#{index + 1} ›</Link>}
    </div>
  );

  if (index === null) return <EmptyState title={`"${rawIndex}" is not a feature index`}>Feature indices are whole numbers from 0.</EmptyState>;
  if (error && !feature) return <>{nav}<ErrorState what={`feature #${index}`} error={error} onRetry={retry} /></>;
  if (fetching || (!feature && !notFound))
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
        <EmptyState title={`Feature #${index} not found in run ${runId}`}>The run may have fewer features, or it has not been analysed yet.</EmptyState>
      </>
    );

  const scale = feature.maxActivation;
  const onSave = async (label: string) => {
    const r = await relabel(runId, feature.index, label);
    return r.error ? actionableMessage(r.error) : null;
  };

  return (
    <div className="stack" data-testid="feature-page">
      {nav}
      <div>
        <div className="muted small mono">
          feature #{feature.index} · run {runId}
        </div>
        <LabelEditor label={feature.label} source={feature.labelSource} editable={!isStaticMode()} saving={saving} onSave={onSave} />
        {feature.labelDescription && <p className="muted small" style={{ margin: "0.3rem 0 0" }}>{feature.labelDescription}</p>}
        <div className="row small" style={{ marginTop: "0.3rem" }}>
          {feature.dead && <span className="badge bad">dead</span>}
          {feature.dense && <span className="badge warn">dense</span>}
        </div>
      </div>
      <StatCards
        testId="feature-stats"
        stats={[
          { name: "grade", value: feature.grade ?? "—" },
          { name: "density", value: fmtDensity(feature.density), hint: "fraction of tokens it fires on" },
          { name: "mean activation", value: fmtNumber(feature.meanActivation, 3), hint: "mean over tokens where it fires" },
          { name: "max activation", value: fmtNumber(feature.maxActivation, 3) },
          { name: "tokens fired on", value: (feature.nActive ?? 0).toLocaleString("en") },
          { name: "label score", value: fmtNumber(feature.labelScore, 2) },
        ]}
      />
      <div className="grid-2">
        <Section title="Activation histogram" actions={<GradeBadge grade={feature.grade} />}>
          {feature.histogram ? <HistogramChart histogram={feature.histogram} xLabel="activation value (non-zero)" /> : <div className="muted small">No histogram recorded.</div>}
        </Section>
        <Section title="Logit lens">
          {feature.logitLens ? <LogitLensTable top={feature.logitLens.top} bottom={feature.logitLens.bottom} /> : <div className="muted small">No logit lens recorded.</div>}
        </Section>
      </div>
      <Section title="Fires most on">
        <TopTokens tokens={feature.topTokens ?? []} />
      </Section>
      <Section title="Test a prompt">{isStaticMode() ? <StaticNotice feature="Testing a prompt" /> : <PromptTester runId={runId} index={feature.index} scale={scale} />}</Section>
      <Section title="Top activating examples" testId="top-examples">
        <ExampleList examples={feature.topExamples} scale={scale} testId="top-examples-list" />
      </Section>
      <Section title="Across the activation range">
        <QuantileSamples samples={feature.quantileSamples} scale={scale} />
      </Section>
      <div className="grid-2">
        <Section title="Neighbours">
          <NeighbourList runId={runId} title="By decoder cosine" items={feature.decoderNeighbours} testId="decoder-neighbours" />
        </Section>
        <Section title="Co-activating">
          <NeighbourList runId={runId} title="By co-activation" items={feature.coactivationNeighbours} testId="coactivation-neighbours" />
        </Section>
      </div>
    </div>
  );
}

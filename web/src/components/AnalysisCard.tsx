/** A run's analysis facts (analysed tokens, dead and dense features) from its analysis summary: the one source the
 * density histogram's caption and the explorer's dead/dense filters agree with. */
import { fmtPercent } from "../lib/format";
import { StatCards } from "./StatCards";

export interface AnalysisSummary {
  nTokens: number;
  dSae: number;
  nDead: number;
  nDense: number;
  denseThreshold: number;
}

/** The summary's numbers, or null when the run has no (complete) analysis summary. */
export function analysisSummary(summary: unknown): AnalysisSummary | null {
  const s = (summary ?? {}) as Record<string, unknown>;
  const num = (k: string) => (typeof s[k] === "number" && Number.isFinite(s[k]) ? (s[k] as number) : null);
  const [nTokens, dSae, nDead, nDense, denseThreshold] = ["n_tokens", "d_sae", "n_dead", "n_dense", "dense_threshold"].map(num);
  if (nTokens === null || !dSae || nDead === null || nDense === null || denseThreshold === null) return null;
  return { nTokens, dSae, nDead, nDense, denseThreshold };
}

export function AnalysisCard({ summary }: { summary: AnalysisSummary }) {
  const on = `on the ${summary.nTokens.toLocaleString("en")} analysed tokens`;
  const share = (n: number) => `${n.toLocaleString("en")} of ${summary.dSae.toLocaleString("en")} (${fmtPercent(n / summary.dSae, 2)})`;
  return (
    <div className="stack" style={{ gap: "0.4rem" }}>
      <div className="small muted" data-testid="analysis-split">
        Analysis pass: every context of the activation set up to the analysis token limit, BOS and excluded positions left out; densities are fractions of these
        tokens.
      </div>
      <StatCards
        testId="analysis-card"
        stats={[
          { name: "analysed tokens", value: summary.nTokens.toLocaleString("en"), hint: "tokens that entered the feature statistics" },
          { name: "dead (analysis)", value: share(summary.nDead), hint: `features that never fired ${on}` },
          {
            name: "dense (analysis)",
            value: share(summary.nDense),
            hint: `features firing on more than ${fmtPercent(summary.denseThreshold, 1)} of the tokens ${on.replace("on the", "among the")}`,
          },
        ]}
      />
    </div>
  );
}

/**
 * Which features push the model towards a clicked token (activation × gradient of its logit, at every earlier
 * position), with a button to ablate one there and see the next-token prediction change.
 */
import { useState } from "react";
import { Link } from "react-router";
import { actionableMessage } from "../api/errors";
import { useAttribution } from "../hooks/useAttribution";
import { useSteer } from "../hooks/useSteer";
import { fmtNumber } from "../lib/format";
import { topAttributions } from "../lib/attribution";
import { AblationResult } from "./AblationResult";
import { InlineError } from "./InlineError";
import { SkeletonLines } from "./Skeleton";
import { TokenChip } from "./TokenChip";
import { DataTable } from "./DataTable";

const SHOWN = 10;

const COLUMNS = ["feature", "on token", { label: "activation", className: "num" }, { label: "attribution", className: "num" }, { label: "ablate", hidden: true }];

export function AttributionPanel({ runId, tokens, position }: { runId: string; tokens: string[]; position: number }) {
  const prefix = position > 0 ? tokens.slice(0, position).join("") : null;
  const target = tokens[position] ?? null;
  const { attribution, fetching, error, retry } = useAttribution(runId, prefix, target);
  const ablation = useSteer(runId);
  const [ablated, setAblated] = useState<number | null>(null);
  if (prefix === null) return <div className="small muted">The first token has no earlier context: pick a later one to see what predicts it.</div>;
  if (error) return <InlineError error={error} onRetry={retry} />;
  if (!attribution || fetching) return <SkeletonLines lines={4} label="Attributing" />;
  const rows = topAttributions(attribution.tokens, SHOWN);
  const check = attribution.check;
  const ablate = (feature: number, at: number) => {
    setAblated(feature);
    ablation.run({ prompt: prefix, maxNewTokens: 1, interventions: [{ feature, kind: "ABLATE", positions: [at] }] });
  };
  const step = ablation.result?.steps[0];
  return (
    <div className="stack" style={{ gap: "0.6rem" }} data-testid="attribution-panel">
      <div className="small">
        What makes the model predict <TokenChip token={attribution.target} /> here (logit {fmtNumber(attribution.logit, 3)}, p = {(100 * attribution.probability).toFixed(2)}%): each feature's activation × the gradient of that logit, at every earlier token.
      </div>
      <DataTable testId="attribution-table" columns={COLUMNS}>
        {rows.map((r) => (
          <tr key={`${r.position}-${r.index}`} data-testid="attribution-row">
            <td>
              <Link to={`/runs/${encodeURIComponent(runId)}/features/${r.index}`} style={{ textDecoration: "underline" }}>
                #{r.index}
              </Link> <span className="muted small">{r.label ?? ""}</span>
            </td>
            <td>
              <TokenChip token={tokens[r.position]} /> <span className="muted small">@{r.position}</span>
            </td>
            <td className="num">{fmtNumber(r.activation, 3)}</td>
            <td className={`num ${r.attribution > 0 ? "ok-text" : "error-text"}`}>{fmtNumber(r.attribution, 3)}</td>
            <td>
              <button type="button" onClick={() => ablate(r.index, r.position)} aria-label={`Ablate feature ${r.index} at token ${r.position}`}>
                Ablate
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
      <div className="small muted" data-testid="attribution-check">
        Check: ablating #{check.feature.index} at token {check.position} moves the logit by {fmtNumber(check.actualChange, 3)} (attribution predicted {fmtNumber(check.predictedChange, 3)}):{" "}
        {check.agrees ? "same sign" : "opposite sign — the first-order estimate is off here"}.
      </div>
      {ablation.error ? (
        <div className="error-text small" role="alert">
          {actionableMessage(ablation.error)}
        </div>
      ) : ablation.fetching ? (
        <SkeletonLines lines={3} label="Ablating" />
      ) : step && ablated !== null ? (
        <AblationResult feature={ablated} step={step} />
      ) : null}
    </div>
  );
}

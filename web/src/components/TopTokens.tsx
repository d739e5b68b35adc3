/** The tokens a feature fires on most, with each one's share of its firings. */
import { displayToken, fmtPercent } from "../lib/format";

export function TopTokens({ tokens }: { tokens: readonly { token: string; value: number }[] }) {
  if (!tokens.length) return <div className="muted small">No token statistics recorded.</div>;
  return (
    <div className="row" style={{ gap: "0.35rem" }} data-testid="top-tokens">
      {tokens.map((t, i) => (
        <span key={i} className="badge mono" title={`${fmtPercent(t.value)} of its firings`}>
          {JSON.stringify(displayToken(t.token)).slice(1, -1)} <span className="muted">{fmtPercent(t.value, 0)}</span>
        </span>
      ))}
    </div>
  );
}

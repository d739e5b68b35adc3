/** The tokens a feature fires on most, with each one's share of its firings (shares that round to 0 % left out). */
import { fmtPercent } from "../lib/format";
import { TokenChip } from "./TokenChip";

/** Shares below this round to "0 %" at whole-percent precision: such chips say nothing. */
export const MIN_SHOWN_SHARE = 0.005;

export function TopTokens({ tokens }: { tokens: readonly { token: string; value: number }[] }) {
  if (!tokens.length) return <div className="muted small">No token statistics recorded.</div>;
  const shown = tokens.filter((t) => t.value >= MIN_SHOWN_SHARE);
  const hidden = tokens.length - shown.length;
  return (
    <div className="stack" style={{ gap: "0.4rem" }}>
      <ul className="chips" data-testid="top-tokens" aria-label="Tokens it fires on, with their share of its firings">
        {shown.map((t, i) => (
          <li key={i} className="badge" title={`${fmtPercent(t.value)} of its firings`}>
            <TokenChip token={t.token} /> <span className="muted">{fmtPercent(t.value, 0)}</span>
          </li>
        ))}
      </ul>
      <div className="small muted">
        Share of the feature's firings (on the analysed tokens) that fall on each token.
        {hidden > 0 && ` ${hidden} more token${hidden === 1 ? "" : "s"} under 0.5 % each not shown.`}
      </div>
    </div>
  );
}

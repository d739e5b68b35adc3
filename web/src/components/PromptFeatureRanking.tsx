/** Features ranked over the whole prompt (sum, max or number of tokens), each linked and selectable for shading. */
import { useState } from "react";
import { Link } from "react-router";
import { fmtNumber } from "../lib/format";
import type { RankedFeature, RankKey } from "../lib/promptFeatures";
import { featurePath } from "../lib/routes";
import { TokenChip } from "./TokenChip";
import { DataTable } from "./DataTable";

export const FIRST_RANKED = 15;

interface Props {
  runId: string;
  ranked: readonly RankedFeature[];
  rank: RankKey;
  onRank: (rank: RankKey) => void;
  tokens: readonly string[];
  shading: readonly number[];
  onToggleShade: (index: number) => void;
  onSelectToken: (position: number) => void;
  /** False when some token lists were cut by the server's cap (sums and counts are then lower bounds). */
  complete: boolean;
}

const COLUMNS = [
  "#",
  "Label",
  { label: "Sum", className: "num", title: "Sum of its activations over the prompt's tokens" },
  { label: "Max", className: "num", title: "Its largest activation in the prompt" },
  { label: "Tokens", className: "num", title: "Tokens it is active on" },
  { label: "Strongest on", title: "The token where it is strongest (click to inspect it)" },
  "Shade",
];

export function PromptFeatureRanking({ runId, ranked, rank, onRank, tokens, shading, onToggleShade, onSelectToken, complete }: Props) {
  const [all, setAll] = useState(false);
  const shown = all ? ranked : ranked.slice(0, FIRST_RANKED);
  return (
    <div className="stack" style={{ gap: "0.5rem" }} data-testid="prompt-ranking">
      <div className="row small">
        <label className="row" style={{ gap: "0.3rem" }}>
          Rank by
          <select value={rank} onChange={(e) => onRank(e.target.value as RankKey)} aria-label="Rank features by">
            <option value="sum">sum of activations</option>
            <option value="max">largest activation</option>
            <option value="count">tokens active on</option>
          </select>
        </label>
        <span className="muted">
          {ranked.length} features fire somewhere in these {tokens.length} tokens.
          {!complete && " Some token lists were cut by the server's cap: sums and counts are lower bounds."}
        </span>
      </div>
      <DataTable columns={COLUMNS}>
        {shown.map((f) => (
          <tr key={f.index} data-testid="ranked-feature">
            <td className="mono">
              <Link to={featurePath(runId, f.index)}>#{f.index}</Link>
            </td>
            <td className="label-cell">{f.label || <span className="muted">unlabelled</span>}</td>
            <td className="num">{fmtNumber(f.sum, 2)}</td>
            <td className="num">{fmtNumber(f.max, 2)}</td>
            <td className="num">{f.count}</td>
            <td>
              <button type="button" className="small linkish" onClick={() => onSelectToken(f.maxPosition)} aria-label={`Inspect token ${f.maxPosition}`}>
                <TokenChip token={tokens[f.maxPosition] ?? ""} />
              </button>
            </td>
            <td>
              <input type="checkbox" checked={shading.includes(f.index)} onChange={() => onToggleShade(f.index)} aria-label={`Shade by #${f.index}`} />
            </td>
          </tr>
        ))}
      </DataTable>
      {ranked.length > FIRST_RANKED && (
        <button type="button" className="small" onClick={() => setAll((a) => !a)}>
          {all ? `Show the first ${FIRST_RANKED}` : `Show all ${ranked.length}`}
        </button>
      )}
    </div>
  );
}

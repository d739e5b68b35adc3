/** Per generated position: the clean and the steered model's top tokens with probabilities, and the KL between them. */
import type { SteerSteps } from "../hooks/useSteer";
import { fmtNumber } from "../lib/format";
import { TokenChip } from "./TokenChip";
import { DataTable } from "./DataTable";

type Steps = SteerSteps;

function Top({ tokens }: { tokens: Steps[number]["baselineTop"] }) {
  return (
    <span className="row" style={{ gap: "0.4rem" }}>
      {tokens.slice(0, 3).map((t, i) => (
        <span key={i} className="nowrap">
          <TokenChip token={t.token} /> <span className="muted small">{(100 * t.probability).toFixed(1)}%</span>
        </span>
      ))}
    </span>
  );
}

const COLUMNS = [
  { label: "position", className: "num" },
  "clean: top tokens",
  "steered: top tokens",
  { label: "KL", className: "num", title: "KL(clean ‖ steered) of the next-token distributions, in nats" },
];

export function SteerTopTokens({ steps }: { steps: Steps }) {
  return (
    <DataTable testId="steer-top-tokens" columns={COLUMNS}>
      {steps.map((s) => (
        <tr key={s.position} data-changed={s.changed}>
          <td className="num">{s.position}</td>
          <td>
            <Top tokens={s.baselineTop} />
          </td>
          <td>
            <Top tokens={s.steeredTop} />
          </td>
          <td className="num" data-testid="steer-kl">
            {fmtNumber(s.kl, 3)}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

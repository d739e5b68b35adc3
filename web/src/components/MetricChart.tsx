/** One training metric against step as a line chart. */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { CurvePoint } from "../hooks/useTrainingCurves";
import { fmtNumber, fmtPercent, fmtTick, niceCeil } from "../lib/format";

export type MetricKey = Exclude<keyof CurvePoint, "step">;

interface Props {
  points: readonly CurvePoint[];
  metric: MetricKey;
  title: string;
  logY?: boolean;
  /** A share in [0, 1]: percentage ticks, axis from 0 (a flat 0 % stays at the bottom, not mid-chart). */
  fraction?: boolean;
}

const pctTick = (v: number) => `${fmtTick(Number((v * 100).toPrecision(3)))}%`;

export function MetricChart({ points, metric, title, logY, fraction }: Props) {
  const data = points.filter((p) => p[metric] !== null && p[metric] !== undefined && (!logY || (p[metric] as number) > 0));
  const last = data.at(-1)?.[metric];
  // fractions: an axis from 0 (or a round value below it, e.g. early negative EV) to a round top, quarter ticks
  // (recharts' own ticks land on values like 16.2 %)
  const values = fraction ? data.map((p) => p[metric] as number) : [];
  const top = fraction ? Math.min(1, niceCeil(Math.max(0.01, ...values))) : 0;
  const bottom = fraction && Math.min(0, ...values) < 0 ? -niceCeil(-Math.min(...values)) : 0;
  return (
    <figure style={{ margin: 0 }} data-testid={`curve-${metric}`} data-points={data.length}>
      <figcaption className="row small" style={{ justifyContent: "space-between" }}>
        <span>{title}</span>
        <span className="num muted">{last === undefined || last === null ? "—" : fraction ? fmtPercent(last, 2) : fmtNumber(last, 4)}</span>
      </figcaption>
      <div className="chart-small">
        {data.length === 0 ? (
          <div className="state small">no points yet</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 5, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} tick={{ fill: "var(--muted)", fontSize: 11 }} tickFormatter={fmtTick} />
              <YAxis
                scale={logY ? "log" : "auto"}
                domain={fraction ? [bottom, top] : ["auto", "auto"]}
                ticks={fraction ? [...(bottom < 0 ? [bottom] : []), 0, top / 4, top / 2, (3 * top) / 4, top] : undefined}
                tick={{ fill: "var(--muted)", fontSize: 11 }}
                width={52}
                tickFormatter={fraction ? pctTick : fmtTick}
              />
              <Tooltip
                contentStyle={{ background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" }}
                labelFormatter={(s) => `step ${s}`}
                formatter={(v) => [fraction ? fmtPercent(Number(v), 2) : fmtNumber(Number(v), 4), title]}
              />
              <Line type="monotone" dataKey={metric} stroke="var(--chart-2)" dot={false} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}

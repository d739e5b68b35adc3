/** L0 against one reconstruction metric: one scatter series per architecture; hover names the run, click opens it. */
import { useNavigate } from "react-router";
import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";
import { SERIES_COLOURS, seriesByArchitecture, type CompareMetric, type ComparePointView, type PlotPoint } from "../lib/compare";
import { fmtNumber, fmtTick } from "../lib/format";
import { runPath } from "../lib/routes";

interface Props {
  points: readonly ComparePointView[];
  metric: CompareMetric;
  title: string;
}

function PointTip({ active, payload, metricTitle }: { active?: boolean; payload?: readonly { payload?: PlotPoint }[]; metricTitle: string }) {
  const p = active ? payload?.[0]?.payload : undefined;
  if (!p) return null;
  return (
    <div className="panel small" data-testid="pareto-tooltip" style={{ padding: "0.4rem 0.6rem" }}>
      <strong>{p.name}</strong> · {p.architecture}
      <div>
        L0 {fmtNumber(p.x)} · {metricTitle} {fmtNumber(p.y)}
        {p.onFront ? " · on the front" : ""}
      </div>
      <div className="muted">click to open the run</div>
    </div>
  );
}

export function ParetoChart({ points, metric, title }: Props) {
  const navigate = useNavigate();
  const series = seriesByArchitecture(points, metric);
  const n = series.reduce((sum, s) => sum + s.points.length, 0);
  return (
    <figure style={{ margin: 0 }} data-testid={`pareto-${metric}`} data-points={n}>
      <figcaption className="small">L0 vs {title} (up and to the left is better)</figcaption>
      <div className="chart-pareto">
        {n === 0 ? (
          <div className="state small">no evaluated runs yet</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ScatterChart margin={{ top: 10, right: 12, bottom: 10, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="x" type="number" name="L0" domain={["auto", "auto"]} tick={{ fill: "var(--muted)", fontSize: 11 }} tickFormatter={fmtTick} label={{ value: "L0", position: "insideBottomRight", offset: -4, fill: "var(--muted)", fontSize: 11 }} />
              <YAxis dataKey="y" type="number" name={title} domain={["auto", "auto"]} tick={{ fill: "var(--muted)", fontSize: 11 }} tickFormatter={fmtTick} width={52} />
              <Tooltip content={<PointTip metricTitle={title} />} cursor={{ strokeDasharray: "3 3" }} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {series.map((s, i) => (
                <Scatter
                  key={s.architecture}
                  name={s.architecture}
                  data={s.points}
                  fill={SERIES_COLOURS[i % SERIES_COLOURS.length]}
                  isAnimationActive={false}
                  cursor="pointer"
                  onClick={(d: { payload?: PlotPoint }) => d.payload && navigate(runPath(d.payload.runId))}
                />
              ))}
            </ScatterChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}

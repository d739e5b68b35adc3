/** A histogram (edges + counts) as a bar chart; the zero fraction, if given, is stated under it. */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { fmtNumber, fmtPercent, fmtTick } from "../lib/format";

export interface HistogramData {
  edges: readonly number[];
  counts: readonly number[];
  zeroFraction?: number | null;
}

interface Props {
  histogram: HistogramData;
  xLabel: string;
  /** Format a bin edge for the axis and tooltip. */
  formatEdge?: (edge: number) => string;
  zeroText?: string;
}

export function histogramRows(h: HistogramData, formatEdge: (e: number) => string) {
  return h.counts.map((count, i) => ({
    bin: `${formatEdge(h.edges[i])}–${formatEdge(h.edges[i + 1] ?? h.edges[i])}`,
    mid: formatEdge(((h.edges[i] ?? 0) + (h.edges[i + 1] ?? h.edges[i] ?? 0)) / 2),
    count,
  }));
}

export function HistogramChart({ histogram, xLabel, formatEdge = (e) => fmtNumber(e, 2), zeroText = "exactly zero" }: Props) {
  const rows = histogramRows(histogram, formatEdge);
  return (
    <figure style={{ margin: 0 }} aria-label={`Histogram of ${xLabel}`}>
      <div className="chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 5, right: 5, bottom: 5, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
            <XAxis dataKey="mid" tick={{ fill: "var(--muted)", fontSize: 11 }} minTickGap={16} />
            <YAxis tick={{ fill: "var(--muted)", fontSize: 11 }} width={48} allowDecimals={false} tickFormatter={fmtTick} />
            <Tooltip
              contentStyle={{ background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)" }}
              labelFormatter={(_, p) => (p?.[0]?.payload as { bin?: string } | undefined)?.bin ?? ""}
              formatter={(v) => [v, "count"]}
            />
            <Bar dataKey="count" fill="var(--chart-1)" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="small muted">
        {xLabel}
        {histogram.zeroFraction != null && ` · ${fmtPercent(histogram.zeroFraction, 2)} ${zeroText}`}
      </figcaption>
    </figure>
  );
}

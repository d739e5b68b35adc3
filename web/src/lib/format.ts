/** Number and token formatting shared by tables, cards and charts. */

export function fmtNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v !== 0 && (Math.abs(v) < 10 ** -digits || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return Number(v.toFixed(digits)).toLocaleString("en", { maximumFractionDigits: digits });
}

export function fmtPercent(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return `${(v * 100).toFixed(digits)}%`;
}

/** Density as a percentage with enough precision for rare features (0.0012%). */
export function fmtDensity(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const pct = v * 100;
  if (pct >= 1) return `${pct.toFixed(1)}%`;
  return `${pct.toPrecision(2)}%`;
}

/** Show newlines and tabs in a token as visible marks (spaces stay spaces; CSS keeps them with pre-wrap). */
export function displayToken(token: string): string {
  return token.replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

/** A timestamp as "2025-12-06 14:05 UTC": the same for every reader, whatever the browser's locale or zone. */
export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * A chart axis tick: short and exact enough to read ("0.0464", "44.8", "12k", "1e-4", "2.5e-5"), never a
 * floating-point tail or a fractional exponent.
 */
export function fmtTick(v: number): string {
  if (!Number.isFinite(v)) return "";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a < 1e-3) {
    const [mantissa, exp] = v.toExponential(1).split("e");
    return `${Number(mantissa)}e${Number(exp)}`;
  }
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** The smallest 1, 2 or 5 × 10^k at or above v (an axis top): 0.0079 -> 0.01, 0.34 -> 0.5, 0.79 -> 1. */
export function niceCeil(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = [1, 2, 5, 10].find((x) => x * p >= v * (1 - 1e-12)) ?? 10;
  return Number((m * p).toPrecision(12));
}

/** A log10(density) value (an axis position) as the density it stands for: -2 -> "1%", -3.5 -> "0.032%". */
export function fmtLog10Density(e: number): string {
  if (!Number.isFinite(e)) return "—";
  return `${Number((10 ** e * 100).toPrecision(2))}%`;
}

/** Lowest decade the explorer's log-density bars show when the run's token count is unknown. */
export const DEFAULT_DENSITY_FLOOR = -6;

/**
 * The lowest log10 density worth a bar for a run analysed on `nTokens` tokens: the decade of one firing
 * (1 / nTokens), so the bars use their whole width for densities that can occur (4,032 tokens -> -4).
 */
export function densityFloor(nTokens: number | null | undefined): number {
  if (!nTokens || !Number.isFinite(nTokens) || nTokens < 1) return DEFAULT_DENSITY_FLOOR;
  return Math.max(-9, Math.min(-1, Math.floor(Math.log10(1 / nTokens))));
}

/** Density bar width on a log scale from 10^floor (0) to 1 (100 %), so rare and common features both show. */
export function densityBarFraction(density: number, floor = DEFAULT_DENSITY_FLOOR): number {
  if (!Number.isFinite(density) || density <= 0) return 0;
  return Math.min(1, Math.max(0, (Math.log10(density) - floor) / -floor));
}

/** The decades of a log-density axis from 10^floor to 1, as [log10, label] (e.g. [-2, "1%"]). */
export function densityTicks(floor = DEFAULT_DENSITY_FLOOR): [number, string][] {
  const out: [number, string][] = [];
  for (let e = floor; e <= 0; e++) out.push([e, fmtLog10Density(e)]);
  return out;
}

/**
 * A server-side path shown without the server's folders: "/srv/models/tiny-gpt2" -> "…/tiny-gpt2". Hub ids
 * ("gpt2", "HuggingFaceTB/SmolLM2-135M") and other plain values are returned as they are.
 */
export function displayPath(value: string): string {
  const v = value.trim();
  const looksLikePath = /^([/~.]|[A-Za-z]:[\\/])/.test(v) || (v.match(/[/\\]/g)?.length ?? 0) >= 2;
  if (!looksLikePath) return value;
  const parts = v.split(/[/\\]+/).filter((p) => p && p !== "." && p !== "..");
  return parts.length ? `…/${parts[parts.length - 1]}` : "…";
}

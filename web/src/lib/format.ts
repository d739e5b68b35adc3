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

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Density bar width: log scale from 1e-6 (0%) to 1 (100%), so rare and common features are both visible. */
export function densityBarFraction(density: number): number {
  if (!Number.isFinite(density) || density <= 0) return 0;
  const lo = -6;
  return Math.min(1, Math.max(0, (Math.log10(density) - lo) / -lo));
}

/** Heatmap shading: maps an activation to a background colour intensity relative to a scale maximum. */

/** Fraction of full intensity for `value` on a scale whose top is `max`; 0 for non-positive or non-finite input. */
export function shadeFraction(value: number, max: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(max) || value <= 0 || max <= 0) return 0;
  return Math.min(1, value / max);
}

/** The scale maximum for a row of activations: the largest finite value (0 when none is positive). */
export function scaleMax(values: readonly number[]): number {
  let best = 0;
  for (const v of values) if (Number.isFinite(v) && v > best) best = v;
  return best;
}

/** CSS background for a token: the accent hue at an opacity that grows with the activation (none at zero). */
export function shadeColor(value: number, max: number): string {
  const f = shadeFraction(value, max);
  if (f === 0) return "transparent";
  // A floor keeps weak-but-nonzero activations visible against the page background.
  const alpha = 0.12 + 0.78 * f;
  return `rgba(var(--heat-rgb), ${alpha.toFixed(3)})`;
}

/**
 * Above this fraction the shade is light enough for dark text; below it (but shaded) light text reads better. Chosen so
 * both sides keep a WCAG AA contrast (4.5:1) on the dark theme's panels; the light theme uses dark text on both sides.
 */
export const STRONG_TEXT_FROM = 0.675;

/** Text colour that stays readable on the shaded background (undefined: the page's own text colour, unshaded). */
export function shadeTextColor(value: number, max: number): string | undefined {
  const f = shadeFraction(value, max);
  if (f === 0) return undefined;
  return f > STRONG_TEXT_FROM ? "var(--heat-text-strong)" : "var(--heat-text-weak)";
}

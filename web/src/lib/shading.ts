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

/** Text colour that stays readable on the shaded background. */
export function shadeTextColor(value: number, max: number): string | undefined {
  return shadeFraction(value, max) > 0.6 ? "var(--heat-text-strong)" : undefined;
}

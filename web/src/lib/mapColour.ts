/** Map colours: a feature's log10 density on a sequential scale (rare = light, dense = dark), dead ones grey. */

export const MAP_FLOOR = -6;

/** Position of a density on the colour scale in [0, 1] (10^MAP_FLOOR and below = 0, 100 % = 1). */
export function densityPosition(density: number, floor = MAP_FLOOR): number {
  if (!(density > 0)) return 0;
  return Math.min(1, Math.max(0, (Math.log10(density) - floor) / -floor));
}

/** An HSL colour for a density; dead features get a neutral grey. */
export function densityColour(density: number, dead: boolean, floor = MAP_FLOOR): string {
  if (dead) return "hsl(0 0% 60%)";
  const t = densityPosition(density, floor);
  return `hsl(${Math.round(200 - 170 * t)} 80% ${Math.round(75 - 40 * t)}%)`;
}

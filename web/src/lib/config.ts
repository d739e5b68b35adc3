/** Config objects for display. */

/** Nested sections (a pipeline's collect/train/analyse) become dotted keys: "train.d_sae". */
export function flattenConfig(config: unknown, prefix = ""): [string, unknown][] {
  if (!config || typeof config !== "object" || Array.isArray(config)) return prefix ? [[prefix, config]] : [];
  return Object.entries(config as Record<string, unknown>).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === "object" && !Array.isArray(v) ? flattenConfig(v, key) : [[key, v] as [string, unknown]];
  });
}

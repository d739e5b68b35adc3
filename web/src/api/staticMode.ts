/** Static export mode: read the marker `saelab export-static` writes into index.html, and build data URLs. */

export interface StaticConfig {
  format: "saelab-static/1";
  /** Folder of the exported JSON files, relative to index.html (default "data/"). */
  data: string;
}

function readMarker(): StaticConfig | null {
  if (typeof document === "undefined") return null;
  const el = document.getElementById("saelab-static");
  if (!el?.textContent) return null;
  try {
    const parsed = JSON.parse(el.textContent) as Partial<StaticConfig> | null;
    if (!parsed) return null;
    if (parsed.format !== "saelab-static/1") throw new Error(`unknown static export format ${String(parsed.format)}`);
    return { format: parsed.format, data: parsed.data ?? "data/" };
  } catch (err) {
    console.error("saelab: the static export marker in index.html is not valid", err);
    return null;
  }
}

let cached: StaticConfig | null | undefined;

/** The static export config, or null when the client talks to a live gateway. */
export function staticConfig(): StaticConfig | null {
  if (cached === undefined) cached = readMarker();
  return cached;
}

export function isStaticMode(): boolean {
  return staticConfig() !== null;
}

/** Test hook: pretend the page carried this marker. */
export function setStaticConfigForTests(cfg: StaticConfig | null): void {
  cached = cfg;
}

export function staticUrl(file: string): string {
  const base = staticConfig()?.data ?? "data/";
  return `${base.endsWith("/") ? base : `${base}/`}${file}`;
}

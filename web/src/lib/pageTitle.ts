/** Browser tab titles: the page's own words first, "saelab" last, each part short. */

export const APP_NAME = "saelab";
const MAX_PART = 48;

function clip(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > MAX_PART ? `${t.slice(0, MAX_PART - 1)}…` : t;
}

/** "#12 cats · run tiny — saelab"; empty parts are dropped. */
export function pageTitle(...parts: (string | null | undefined | false)[]): string {
  const kept = parts.filter((p): p is string => typeof p === "string" && p.trim() !== "").map(clip);
  return kept.length ? `${kept.join(" · ")} — ${APP_NAME}` : APP_NAME;
}

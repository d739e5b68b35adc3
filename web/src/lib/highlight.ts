/** Split text into plain and matching parts for every (case-insensitive) query term. */

export interface Part {
  text: string;
  match: boolean;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function highlightParts(text: string, query: string): Part[] {
  const terms = query.split(/\s+/).filter(Boolean).sort((a, b) => b.length - a.length);
  if (!terms.length || !text) return [{ text, match: false }];
  const re = new RegExp(`(${terms.map(escape).join("|")})`, "gi");
  return text
    .split(re)
    .filter((t) => t !== "")
    .map((t) => ({ text: t, match: terms.some((term) => term.toLowerCase() === t.toLowerCase()) }));
}

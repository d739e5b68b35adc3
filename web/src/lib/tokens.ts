/**
 * Tokens shown so nothing about them is invisible or ambiguous: spaces as "␣", newlines and tabs as marks, the
 * server's byte fallbacks (a token holding part of a UTF-8 character arrives as "\\xe2\\x80") as bytes, and
 * characters that would render as nothing or as a blank box (controls, format and private-use characters,
 * unassigned code points, odd spaces) as their code point.
 */

export type TokenPartKind = "text" | "space" | "newline" | "tab" | "byte" | "codepoint";

export interface TokenPart {
  kind: TokenPartKind;
  /** What to draw. */
  text: string;
  /** What it stands for (for the tooltip), when the drawing is a stand-in. */
  meaning?: string;
}

const MARK: Record<string, [TokenPartKind, string, string]> = {
  " ": ["space", "␣", "space"],
  "\n": ["newline", "↵", "newline"],
  "\r": ["newline", "␍", "carriage return"],
  "\t": ["tab", "⇥", "tab"],
};

/** One escaped byte as the server writes it for a partial character, e.g. "\xe2". */
const BYTE = /\\x[0-9a-fA-F]{2}/y;
/** Characters that draw as nothing or as a box. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;
const MARK_ALONE = /^\p{M}/u;

const codepoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** The parts to draw for one token. */
export function tokenParts(token: string): TokenPart[] {
  const parts: TokenPart[] = [];
  const text = (t: string) => {
    const last = parts.at(-1);
    if (last?.kind === "text") last.text += t;
    else parts.push({ kind: "text", text: t });
  };
  let i = 0;
  while (i < token.length) {
    BYTE.lastIndex = i;
    if (BYTE.test(token)) {
      const hex = token.slice(i + 2, i + 4).toLowerCase();
      parts.push({ kind: "byte", text: hex, meaning: `byte 0x${hex} of a character split across tokens` });
      i += 4;
      continue;
    }
    const ch = String.fromCodePoint(token.codePointAt(i)!);
    const mark = MARK[ch];
    if (mark) parts.push({ kind: mark[0], text: mark[1], meaning: mark[2] });
    else if (INVISIBLE.test(ch) || (i === 0 && MARK_ALONE.test(ch)))
      parts.push({ kind: "codepoint", text: codepoint(ch), meaning: `character ${codepoint(ch)}` });
    else text(ch);
    i += ch.length;
  }
  return parts;
}

/** The token as one plain string with the same stand-ins ("␣cat", "↵", "[e2][80]") for titles and exports. */
export function tokenLabel(token: string): string {
  if (token === "") return "(empty)";
  return tokenParts(token)
    .map((p) => (p.kind === "byte" ? `[${p.text}]` : p.kind === "codepoint" ? `[${p.text}]` : p.text))
    .join("");
}

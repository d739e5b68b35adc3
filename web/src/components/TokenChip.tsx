/** One token drawn with nothing hidden: spaces as ␣, line breaks as marks, split-character bytes and invisible characters by code. */
import { tokenLabel, tokenParts } from "../lib/tokens";

export function TokenChip({ token, className = "" }: { token: string; className?: string }) {
  const parts = tokenParts(token);
  return (
    <span className={`tokchip mono ${className}`} title={`token ${JSON.stringify(token)}`}>
      <span className="sr-only">{tokenLabel(token)}</span>
      {parts.length === 0 ? (
        <span className="tok-mark" aria-hidden="true">
          ∅
        </span>
      ) : (
        parts.map((p, i) =>
          p.kind === "text" ? (
            <span key={i} aria-hidden="true">
              {p.text}
            </span>
          ) : (
            <span key={i} className={p.kind === "byte" || p.kind === "codepoint" ? "tok-code" : "tok-mark"} title={p.meaning} aria-hidden="true">
              {p.text}
            </span>
          ),
        )
      )}
    </span>
  );
}

/** Copy text to the clipboard and say so for a moment ("Copied" / the reason it failed). */
import { useCallback, useEffect, useRef, useState } from "react";

/** The clipboard API where the page may use it (https or localhost), else the older selection-based copy. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the browser refused to copy; select the text and copy it by hand");
}

export function useCopy(resetMs = 2000) {
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = useCallback(
    async (text: string, what = "Copied") => {
      clearTimeout(timer.current);
      try {
        await copyText(text);
        setStatus({ ok: true, text: what });
      } catch (err) {
        setStatus({ ok: false, text: `Could not copy: ${err instanceof Error ? err.message : String(err)}` });
      }
      timer.current = setTimeout(() => setStatus(null), resetMs);
    },
    [resetMs],
  );
  return { copy, status };
}

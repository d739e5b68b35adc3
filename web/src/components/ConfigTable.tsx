/** A config object (snake_case keys) as a key/value list: knobs the architecture ignores left out, server paths shortened. */
import { configRows } from "../lib/runView";

function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function ConfigTable({ config, architecture }: { config: unknown; architecture?: string | null }) {
  const entries = configRows(config, architecture);
  if (!entries.length) return <div className="muted small">No config recorded.</div>;
  return (
    <dl className="kv small" data-testid="config-table">
      {entries.map(([k, v]) => (
        <div key={k} style={{ display: "contents" }}>
          <dt className="mono">{k}</dt>
          <dd className="mono">{show(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

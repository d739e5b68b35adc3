/** A config object (snake_case keys) as a key/value list. */
import { flattenConfig } from "../lib/config";

function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function ConfigTable({ config }: { config: unknown }) {
  const entries = flattenConfig(config);
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

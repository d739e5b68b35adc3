/** A row of small named numbers (feature stats, eval card). */

export interface Stat {
  name: string;
  value: string;
  hint?: string;
}

export function StatCards({ stats, testId }: { stats: readonly Stat[]; testId?: string }) {
  return (
    <div className="stat-cards" data-testid={testId}>
      {stats.map((s) => (
        <div className="stat" key={s.name} title={s.hint}>
          <div className="value">{s.value}</div>
          <div className="name">{s.name}</div>
        </div>
      ))}
    </div>
  );
}

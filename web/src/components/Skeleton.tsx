/** Loading placeholders: shimmering lines or a block of a given height. */

export function SkeletonLines({ lines = 3, label = "Loading" }: { lines?: number; label?: string }) {
  return (
    <div role="status" aria-label={label} aria-busy="true">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton skeleton-line" style={{ width: `${90 - ((i * 17) % 35)}%` }} />
      ))}
    </div>
  );
}

export function SkeletonBlock({ height = 160, label = "Loading" }: { height?: number; label?: string }) {
  return <div role="status" aria-label={label} aria-busy="true" className="skeleton" style={{ height }} />;
}

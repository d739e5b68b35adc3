/** Shown instead of a page that needs the live API when the client runs from a static export. */

export function StaticNotice({ feature }: { feature: string }) {
  return (
    <div className="notice" data-testid="static-notice">
      <strong>{feature} needs the live API.</strong> This is a static export of one run: the feature explorer, feature
      pages and search work offline; start the saelab gateway (<code>saelab up</code>) to analyse prompts and run
      jobs.
    </div>
  );
}

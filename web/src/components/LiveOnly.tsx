/** A page that needs the live gateway: in a static export its title and a notice stand in for `children`. */
import type { ComponentType, ReactNode } from "react";
import { isStaticMode } from "../api/staticMode";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { pageTitle } from "../lib/pageTitle";
import { StaticNotice } from "./StaticNotice";

export function LiveOnly({ title, feature, children }: { title: string; feature: string; children: ReactNode }) {
  if (!isStaticMode()) return <>{children}</>;
  return (
    <div className="stack">
      <h1>{title}</h1>
      <StaticNotice feature={feature} />
    </div>
  );
}

/** A live-only page with a fixed document title (set in static exports too): `Live` renders when the gateway is live. */
export function liveOnlyPage(title: string, feature: string, Live: ComponentType) {
  return function LiveOnlyPage() {
    useDocumentTitle(pageTitle(title));
    return (
      <LiveOnly title={title} feature={feature}>
        <Live />
      </LiveOnly>
    );
  };
}

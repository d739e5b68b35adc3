/** A page that needs the live gateway: in a static export its title and a notice stand in for `children`. */
import type { ReactNode } from "react";
import { isStaticMode } from "../api/staticMode";
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

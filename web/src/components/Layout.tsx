/** Page frame: header, API banner, and the routed page. */
import { Outlet } from "react-router";
import { ApiBanner } from "./ApiBanner";
import { NavBar } from "./NavBar";

export function Layout() {
  return (
    <>
      <NavBar />
      <ApiBanner />
      <main>
        <Outlet />
      </main>
    </>
  );
}

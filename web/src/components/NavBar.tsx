/** The header: brand, page links, theme toggle and token settings. */
import { NavLink } from "react-router";
import { isStaticMode } from "../api/staticMode";
import { ThemeToggle } from "./ThemeToggle";
import { TokenSettings } from "./TokenSettings";

const LINKS = [
  { to: "/", label: "Explorer", end: true },
  { to: "/search", label: "Search" },
  { to: "/prompt", label: "Prompt" },
  { to: "/jobs", label: "Jobs" },
  { to: "/compare", label: "Compare" },
  { to: "/bookmarks", label: "Bookmarks" },
];

export function NavBar() {
  return (
    <header className="app-header">
      <NavLink to="/" className="brand">
        saelab
      </NavLink>
      <nav className="nav" aria-label="Main">
        {LINKS.map((l) => (
          <NavLink key={l.to} to={l.to} end={l.end}>
            {l.label}
          </NavLink>
        ))}
      </nav>
      <div className="header-tools">
        {isStaticMode() && <span className="badge warn">static export</span>}
        <ThemeToggle />
        {!isStaticMode() && <TokenSettings />}
      </div>
    </header>
  );
}

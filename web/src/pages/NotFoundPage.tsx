/** Any unknown path. */
import { Link } from "react-router";
import { EmptyState } from "../components/EmptyState";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { pageTitle } from "../lib/pageTitle";

export function NotFoundPage() {
  useDocumentTitle(pageTitle("Page not found"));
  return (
    <EmptyState title="Page not found">
      <Link to="/">Go to the feature explorer</Link>, <Link to="/search">search features</Link> or{" "}
      <Link to="/bookmarks">open your bookmarks</Link>.
    </EmptyState>
  );
}

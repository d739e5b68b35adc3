/** Any unknown path. */
import { Link } from "react-router";
import { EmptyState } from "../components/EmptyState";

export function NotFoundPage() {
  return (
    <EmptyState title="Page not found">
      <Link to="/">Go to the feature explorer</Link>
    </EmptyState>
  );
}

/** A failed live query's message in place of its result, with a retry button (the prompt panels' error). */
import type { CombinedError } from "urql";
import { actionableMessage } from "../api/errors";

export function InlineError({ error, onRetry }: { error: CombinedError; onRetry: () => void }) {
  return (
    <div className="error-text small" role="alert">
      {actionableMessage(error)}{" "}
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

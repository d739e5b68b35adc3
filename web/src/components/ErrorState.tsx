/** What a page shows when a query failed: what failed, the server's message, and a retry button. */
import type { CombinedError } from "@urql/core";
import { actionableMessage } from "../api/errors";

interface Props {
  what: string;
  error?: CombinedError | null;
  message?: string;
  onRetry?: () => void;
}

export function ErrorState({ what, error, message, onRetry }: Props) {
  const text = message ?? actionableMessage(error);
  return (
    <div className="state error" role="alert">
      <div>
        <strong>Could not load {what}.</strong>
      </div>
      {text && <pre className="small">{text}</pre>}
      {onRetry && (
        <div>
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        </div>
      )}
    </div>
  );
}

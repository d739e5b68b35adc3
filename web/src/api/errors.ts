/** Reading gateway errors: the stable `extensions.code`, a readable message, and "is the API down?". */
import type { CombinedError } from "@urql/core";

export type ErrorCode = "NOT_FOUND" | "BAD_INPUT" | "UNKNOWN_FEATURE" | "DEAD_FEATURE" | "UNAUTHENTICATED" | "RATE_LIMITED" | "UNAVAILABLE" | "NETWORK";

export function errorCode(error: CombinedError | null | undefined): ErrorCode | null {
  if (!error) return null;
  if (error.networkError) return "NETWORK";
  const code = error.graphQLErrors.find((e) => e.extensions?.code)?.extensions?.code;
  return typeof code === "string" ? (code as ErrorCode) : null;
}

/** The field a BAD_INPUT error names, if the gateway sent one. */
export function errorField(error: CombinedError | null | undefined): string | null {
  const f = error?.graphQLErrors.find((e) => e.extensions?.field)?.extensions?.field;
  return typeof f === "string" ? f : null;
}

/** Keep a message readable: an HTML error page from a proxy becomes its first 160 characters. */
function clip(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** A message for people: the server's text without urql's "[GraphQL]" prefix, or what the network said. */
export function errorMessage(error: CombinedError | null | undefined): string {
  if (!error) return "";
  if (error.networkError) return `Cannot reach the API: ${clip(error.networkError.message)}`;
  const msgs = error.graphQLErrors.map((e) => e.message).filter(Boolean);
  return msgs.length ? msgs.join("\n") : error.message.replace(/^\[\w+\]\s*/, "");
}

/** A message that also says what to do for auth and rate-limit errors. */
export function actionableMessage(error: CombinedError | null | undefined): string {
  const code = errorCode(error);
  if (code === "UNAUTHENTICATED") return `${errorMessage(error)} — set the API token (key icon in the header).`;
  if (code === "RATE_LIMITED") return `${errorMessage(error)} — wait a moment and try again.`;
  return errorMessage(error);
}

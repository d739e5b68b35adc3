/** The corpus fields both job forms ask for (which text, how many tokens to collect): their defaults, the browser's
 * checks, the collect config keys they fill, and the server's names for them. */

export interface CorpusFields {
  corpus: string;
  nTokens: string;
}

export const DEFAULT_CORPUS_FIELDS: CorpusFields = { corpus: "roneneldan/TinyStories", nTokens: "50000" };

export function corpusErrors(v: CorpusFields): Partial<Record<keyof CorpusFields, string>> {
  const e: Partial<Record<keyof CorpusFields, string>> = {};
  if (!v.corpus.trim()) e.corpus = "Corpus is required (HF dataset name or local .txt/.jsonl path).";
  if (!/^\s*\d+\s*$/.test(v.nTokens) || Number.parseInt(v.nTokens, 10) < 1) e.nTokens = "Tokens must be a whole number ≥ 1.";
  return e;
}

export function corpusConfig(v: CorpusFields): { corpus: string; n_tokens: number } {
  return { corpus: v.corpus.trim(), n_tokens: Number.parseInt(v.nTokens, 10) };
}

/** The server's config keys -> the form fields that edit them. */
export const CORPUS_KEY_TO_FIELD = { corpus: "corpus", n_tokens: "nTokens" } as const;

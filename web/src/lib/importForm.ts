/** The "Import an SAE" form's model: defaults, client-side checks, the importSae input, and server errors. */
import { CORPUS_KEY_TO_FIELD, corpusConfig, corpusErrors, DEFAULT_CORPUS_FIELDS, type CorpusFields } from "./corpusFields";

export interface ImportFormValues extends CorpusFields {
  /** A server folder (absolute path under a data root) or a Hub id org/name[:subfolder]; or empty with a release. */
  source: string;
  release: string;
  saeId: string;
  name: string;
}

export type ImportFormField = keyof ImportFormValues;
export type ImportFieldErrors = Partial<Record<ImportFormField, string>>;

export const DEFAULT_IMPORT_FORM: ImportFormValues = {
  source: "",
  release: "",
  saeId: "",
  name: "",
  ...DEFAULT_CORPUS_FIELDS,
};

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._/-]+)?$/;

/** Checks the browser can make before asking the server (which validates again and fences server paths). */
export function validateImportForm(v: ImportFormValues): ImportFieldErrors {
  const e: ImportFieldErrors = {};
  const source = v.source.trim();
  const release = v.release.trim();
  if (source && release) e.release = "Give a source or a release, not both.";
  else if (!source && !release) e.source = "Give a server folder (absolute path) or a Hub id org/name[:subfolder], or a release.";
  else if (source && !source.startsWith("/") && !HUB_ID.test(source)) e.source = "Not an absolute server path nor a Hub id org/name[:subfolder].";
  if (release && !v.saeId.trim()) e.saeId = "A release needs the SAE id, e.g. blocks.8.hook_resid_pre.";
  return { ...e, ...corpusErrors(v) };
}

export interface ImportSaeInput {
  source?: string;
  release?: string;
  saeId?: string;
  name: string | null;
  collect: Record<string, unknown>;
}

export function buildImportInput(v: ImportFormValues): ImportSaeInput {
  const input: ImportSaeInput = {
    name: v.name.trim() || null,
    collect: corpusConfig(v),
  };
  if (v.source.trim()) input.source = v.source.trim();
  else {
    input.release = v.release.trim();
    input.saeId = v.saeId.trim();
  }
  return input;
}

/** The server's field path (extensions.field, or a message's "<section>: <key>:" prefix) -> the form field. */
const KEY_TO_FIELD: Record<string, ImportFormField> = {
  source: "source",
  release: "release",
  sae_id: "saeId",
  saeId: "saeId",
  name: "name",
  ...CORPUS_KEY_TO_FIELD,
};

export interface ImportServerValidation {
  fields: ImportFieldErrors;
  general: string[];
}

/** Spread a BAD_INPUT error over the form: the field it names gets the message, anything else goes above it. */
export function importServerErrors(message: string, field?: string | null): ImportServerValidation {
  const key = (field ?? "").split(".").pop() ?? "";
  const target = KEY_TO_FIELD[key];
  if (target) return { fields: { [target]: message }, general: [] };
  return { fields: {}, general: [message] };
}

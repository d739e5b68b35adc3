/** Import an SAE through the job system (importSae); returns the new pipeline job or the server's error. */
import { useCallback } from "react";
import { graphql } from "../gql";
import { useJobMutation } from "./useJobMutation";
import type { ImportSaeInput } from "../lib/importForm";

export const ImportSaeMutation = graphql(`
  mutation ImportSae($input: ImportSaeInput!) {
    importSae(input: $input) {
      ...JobFields
    }
  }
`);

export function useImportSae() {
  const { send, sending } = useJobMutation(ImportSaeMutation, "importSae");
  const importSae = useCallback((input: ImportSaeInput) => send({ input }), [send]);
  return { importSae, importing: sending };
}

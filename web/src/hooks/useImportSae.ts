/** Import an SAE through the job system (importSae); returns the new pipeline job or the server's error. */
import { useCallback } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { ImportSaeInput } from "../lib/importForm";

export const ImportSaeMutation = graphql(`
  mutation ImportSae($input: ImportSaeInput!) {
    importSae(input: $input) {
      ...JobFields
    }
  }
`);

export function useImportSae() {
  const [state, run] = useMutation(ImportSaeMutation);
  const importSae = useCallback(
    async (input: ImportSaeInput) => {
      const r = await run({ input }, { additionalTypenames: ["Job"] });
      return { job: r.data?.importSae ?? null, error: r.error ?? null };
    },
    [run],
  );
  return { importSae, importing: state.fetching };
}

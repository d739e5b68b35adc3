/** The grades present in a run (for the explorer's grade filter). */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const RunGradesQuery = graphql(`
  query RunGrades($id: ID!) {
    run(id: $id) {
      id
      grades
    }
  }
`);

export function useRunGrades(id: string | null): string[] {
  const [result] = useQuery({ query: RunGradesQuery, variables: { id: id ?? "" }, pause: !id });
  return result.data?.run?.grades ?? [];
}

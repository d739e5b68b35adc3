/** Every GraphQL document the client sends must be valid against the committed gateway schema. */
import { buildSchema, validate, type DocumentNode } from "graphql";
import schemaText from "../../schema.graphql?raw";
import * as generated from "../gql/graphql";

const schema = buildSchema(schemaText);
const documents = Object.entries(generated).filter(
  (e): e is [string, DocumentNode] => e[0].endsWith("Document") && (e[1] as DocumentNode)?.kind === "Document",
);

describe("client documents vs schema.graphql", () => {
  it("has the documents the pages use", () => {
    const names = documents.map(([n]) => n);
    for (const n of ["FeaturesPageDocument", "FeatureDetailDocument", "AnalysePromptDocument", "SearchDocument", "SubmitPipelineDocument", "JobUpdatesDocument", "TrainingMetricsDocument", "RelabelFeatureDocument"])
      expect(names).toContain(n);
  });

  it.each(documents)("%s validates", (_, doc) => {
    expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
  });
});

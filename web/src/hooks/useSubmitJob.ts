/** Submit a pipeline or a training job; returns the new job or the server's validation error. */
import { useCallback } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { JobSubmission } from "../lib/jobForm";

export const SubmitPipelineMutation = graphql(`
  mutation SubmitPipeline($input: PipelineInput!) {
    submitPipeline(input: $input) {
      ...JobFields
    }
  }
`);

export const SubmitTrainingMutation = graphql(`
  mutation SubmitTraining($datasetId: ID!, $config: JSON!, $name: String) {
    submitTraining(datasetId: $datasetId, config: $config, name: $name) {
      ...JobFields
    }
  }
`);

export function useSubmitJob() {
  const [pipeline, submitPipeline] = useMutation(SubmitPipelineMutation);
  const [training, submitTraining] = useMutation(SubmitTrainingMutation);
  const submit = useCallback(
    async (s: JobSubmission) => {
      const opts = { additionalTypenames: ["Job"] };
      if (s.kind === "pipeline") {
        const r = await submitPipeline({ input: s.input }, opts);
        return { job: r.data?.submitPipeline ?? null, error: r.error ?? null };
      }
      const r = await submitTraining({ datasetId: s.datasetId, config: s.config, name: s.name }, opts);
      return { job: r.data?.submitTraining ?? null, error: r.error ?? null };
    },
    [submitPipeline, submitTraining],
  );
  return { submit, submitting: pipeline.fetching || training.fetching };
}

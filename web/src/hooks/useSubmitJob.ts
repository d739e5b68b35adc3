/** Submit a pipeline or a training job; returns the new job or the server's validation error. */
import { useCallback } from "react";
import { graphql } from "../gql";
import { useJobMutation } from "./useJobMutation";
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
  const pipeline = useJobMutation(SubmitPipelineMutation, "submitPipeline");
  const training = useJobMutation(SubmitTrainingMutation, "submitTraining");
  const [sendPipeline, sendTraining] = [pipeline.send, training.send];
  const submit = useCallback(
    (s: JobSubmission) =>
      s.kind === "pipeline" ? sendPipeline({ input: s.input }) : sendTraining({ datasetId: s.datasetId, config: s.config, name: s.name }),
    [sendPipeline, sendTraining],
  );
  return { submit, submitting: pipeline.sending || training.sending };
}

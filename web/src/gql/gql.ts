/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment FeatureStats on Feature {\n    index\n    label\n    labelSource\n    grade\n    labelScore\n    density\n    log10Density\n    meanActivation\n    maxActivation\n    nActive\n    dead\n    dense\n  }\n": typeof types.FeatureStatsFragmentDoc,
    "\n  fragment JobFields on Job {\n    id\n    kind\n    status\n    name\n    progress\n    stage\n    message\n    attempts\n    error\n    createdAt\n    startedAt\n    finishedAt\n    parentId\n    runId\n    datasetId\n  }\n": typeof types.JobFieldsFragmentDoc,
    "\n  subscription JobUpdates($jobId: ID) {\n    jobUpdates(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n": typeof types.JobUpdatesDocument,
    "\n  fragment RunFactsFields on Run {\n    id\n    name\n    architecture\n    dSae\n    featureCount\n    analysed\n    grades\n    summary\n  }\n": typeof types.RunFactsFieldsFragmentDoc,
    "\n  query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {\n    attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {\n      position\n      target\n      logit\n      probability\n      tokens {\n        position\n        token\n        positive {\n          index\n          label\n          activation\n          attribution\n        }\n        negative {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n      check {\n        position\n        predictedChange\n        actualChange\n        agrees\n        feature {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n    }\n  }\n": typeof types.AttributeDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobFields\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  query CompareRuns($datasetId: ID, $runIds: [ID!]) {\n    compareRuns(datasetId: $datasetId, runIds: $runIds) {\n      datasetId\n      points {\n        runId\n        name\n        architecture\n        dSae\n        k\n        sparsityCoefficient\n        l0\n        explainedVariance\n        ceLossRecovered\n        deadFraction\n        denseFraction\n        evalTokens\n        evaluated\n        onEvFront\n        onCeFront\n      }\n    }\n  }\n": typeof types.CompareRunsDocument,
    "\n  query Datasets {\n    datasets {\n      id\n      name\n      model\n      hook\n      nTokens\n      complete\n    }\n  }\n": typeof types.DatasetsDocument,
    "\n  query ExplainEstimate($runId: ID!, $options: JSON) {\n    explainEstimate(runId: $runId, options: $options) {\n      features\n      llmCalls\n      promptTokens\n      maxCompletionTokens\n      seconds\n      secondsPerCall\n      method\n      model\n      configured\n    }\n  }\n": typeof types.ExplainEstimateDocument,
    "\n  mutation ExplainFeatures($runId: ID!, $options: JSON) {\n    explainFeatures(runId: $runId, options: $options) {\n      ...JobFields\n    }\n  }\n": typeof types.ExplainFeaturesDocument,
    "\n  mutation AddExplanation($runId: ID!, $index: Int!, $text: String!, $description: String) {\n    addExplanation(runId: $runId, index: $index, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n": typeof types.AddExplanationDocument,
    "\n  mutation EditExplanation($id: ID!, $text: String!, $description: String) {\n    editExplanation(id: $id, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n": typeof types.EditExplanationDocument,
    "\n  query FeatureDetail($runId: ID!, $index: Int!) {\n    feature(runId: $runId, index: $index) {\n      runId\n      ...FeatureStats\n      labelDescription\n      topTokens {\n        token\n        value\n      }\n      explanations {\n        id\n        text\n        description\n        method\n        model\n        author\n        editable\n        sampleSize\n        sampleUnit\n        scores {\n          name\n          value\n          ciLow\n          ciHigh\n          n\n          unit\n          reason\n          help\n        }\n      }\n      histogram {\n        edges\n        counts\n        zeroFraction\n      }\n      topExamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n      }\n      quantileSamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n        quantile\n      }\n      logitLens {\n        top {\n          token\n          value\n        }\n        bottom {\n          token\n          value\n        }\n      }\n      decoderNeighbours {\n        index\n        label\n        score\n      }\n      coactivationNeighbours {\n        index\n        label\n        score\n      }\n    }\n  }\n": typeof types.FeatureDetailDocument,
    "\n  query FeatureMap($runId: ID!) {\n    featureMap(runId: $runId) {\n      index\n      x\n      y\n      density\n      dead\n      dense\n      label\n    }\n  }\n": typeof types.FeatureMapDocument,
    "\n  query FeatureTrace($runId: ID!, $index: Int!, $text: String!) {\n    featureActivations(runId: $runId, index: $index, text: $text) {\n      index\n      tokens\n      activations\n      maxActivation\n    }\n  }\n": typeof types.FeatureTraceDocument,
    "\n  query FeaturesPage(\n    $runId: ID!\n    $page: Int!\n    $first: Int!\n    $sort: FeatureSort!\n    $order: SortOrder!\n    $filter: FeatureFilter\n  ) {\n    features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {\n      totalCount\n      page\n      pageSize\n      nodes {\n        ...FeatureStats\n      }\n    }\n  }\n": typeof types.FeaturesPageDocument,
    "\n  mutation ImportSae($input: ImportSaeInput!) {\n    importSae(input: $input) {\n      ...JobFields\n    }\n  }\n": typeof types.ImportSaeDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n      config\n      children {\n        ...JobFields\n      }\n    }\n  }\n": typeof types.JobDocument,
    "\n  query Jobs($first: Int!) {\n    pipelines: jobs(kind: PIPELINE, first: $first) {\n      ...JobFields\n    }\n    jobs(first: $first) {\n      ...JobFields\n    }\n  }\n": typeof types.JobsDocument,
    "\n  query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {\n    analysePrompt(runId: $runId, text: $text, topK: $topK) {\n      tokens {\n        position\n        token\n        l0\n        maxActivation\n        features {\n          index\n          label\n          activation\n        }\n      }\n    }\n  }\n": typeof types.AnalysePromptDocument,
    "\n  mutation RelabelFeature($runId: ID!, $index: Int!, $label: String!) {\n    relabelFeature(runId: $runId, index: $index, label: $label) {\n      runId\n      index\n      label\n      labelSource\n    }\n  }\n": typeof types.RelabelFeatureDocument,
    "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n      status\n      createdAt\n      datasetId\n      model\n      hook\n      dIn\n      config\n      eval {\n        values\n        explainedVariance\n        l0\n        mse\n        ceLossRecovered\n        klDivergence\n        deadFraction\n        denseFraction\n      }\n      densityHistogram {\n        edges\n        counts\n        zeroFraction\n      }\n    }\n  }\n": typeof types.RunDocument,
    "\n  query RunFacts($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n    }\n  }\n": typeof types.RunFactsDocument,
    "\n  query Runs {\n    runs {\n      id\n      name\n      status\n      createdAt\n      model\n      hook\n      architecture\n      dSae\n      analysed\n      featureCount\n    }\n  }\n": typeof types.RunsDocument,
    "\n  query Search($runId: ID!, $query: String!, $first: Int!) {\n    search(runId: $runId, query: $query, first: $first) {\n      index\n      label\n      grade\n      density\n      score\n      field\n      snippet\n    }\n  }\n": typeof types.SearchDocument,
    "\n  query ServerInfo {\n    serverInfo {\n      version\n      mode\n      authRequired\n      maxPromptTokens\n      maxPageSize\n    }\n  }\n": typeof types.ServerInfoDocument,
    "\n  query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!, $temperature: Float!, $seed: Int!) {\n    steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens, temperature: $temperature, seed: $seed) {\n      promptTokens\n      baselineText\n      steeredText\n      steps {\n        position\n        kl\n        changed\n        baseline {\n          token\n          probability\n        }\n        steered {\n          token\n          probability\n        }\n        baselineTop {\n          token\n          probability\n        }\n        steeredTop {\n          token\n          probability\n        }\n      }\n    }\n  }\n": typeof types.SteerDocument,
    "\n  mutation SubmitPipeline($input: PipelineInput!) {\n    submitPipeline(input: $input) {\n      ...JobFields\n    }\n  }\n": typeof types.SubmitPipelineDocument,
    "\n  mutation SubmitTraining($datasetId: ID!, $config: JSON!, $name: String) {\n    submitTraining(datasetId: $datasetId, config: $config, name: $name) {\n      ...JobFields\n    }\n  }\n": typeof types.SubmitTrainingDocument,
    "\n  mutation SubmitSweep($input: SweepInput!) {\n    submitSweep(input: $input) {\n      ...JobFields\n    }\n  }\n": typeof types.SubmitSweepDocument,
    "\n  query SweepRuns($id: ID!) {\n    job(id: $id) {\n      id\n      datasetId\n      sweepRuns {\n        member\n        runId\n        name\n        architecture\n        dSae\n        stepsDone\n        trained\n        evaluated\n        analysed\n      }\n    }\n  }\n": typeof types.SweepRunsDocument,
    "\n  fragment MetricFields on MetricPoint {\n    step\n    loss\n    mse\n    l1\n    l0\n    explainedVariance\n    deadFraction\n  }\n": typeof types.MetricFieldsFragmentDoc,
    "\n  query RunMetrics($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      metrics {\n        ...MetricFields\n      }\n    }\n  }\n": typeof types.RunMetricsDocument,
    "\n  subscription TrainingMetrics($runId: ID!) {\n    trainingMetrics(runId: $runId) {\n      ...MetricFields\n    }\n  }\n": typeof types.TrainingMetricsDocument,
};
const documents: Documents = {
    "\n  fragment FeatureStats on Feature {\n    index\n    label\n    labelSource\n    grade\n    labelScore\n    density\n    log10Density\n    meanActivation\n    maxActivation\n    nActive\n    dead\n    dense\n  }\n": types.FeatureStatsFragmentDoc,
    "\n  fragment JobFields on Job {\n    id\n    kind\n    status\n    name\n    progress\n    stage\n    message\n    attempts\n    error\n    createdAt\n    startedAt\n    finishedAt\n    parentId\n    runId\n    datasetId\n  }\n": types.JobFieldsFragmentDoc,
    "\n  subscription JobUpdates($jobId: ID) {\n    jobUpdates(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n": types.JobUpdatesDocument,
    "\n  fragment RunFactsFields on Run {\n    id\n    name\n    architecture\n    dSae\n    featureCount\n    analysed\n    grades\n    summary\n  }\n": types.RunFactsFieldsFragmentDoc,
    "\n  query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {\n    attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {\n      position\n      target\n      logit\n      probability\n      tokens {\n        position\n        token\n        positive {\n          index\n          label\n          activation\n          attribution\n        }\n        negative {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n      check {\n        position\n        predictedChange\n        actualChange\n        agrees\n        feature {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n    }\n  }\n": types.AttributeDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobFields\n    }\n  }\n": types.CancelJobDocument,
    "\n  query CompareRuns($datasetId: ID, $runIds: [ID!]) {\n    compareRuns(datasetId: $datasetId, runIds: $runIds) {\n      datasetId\n      points {\n        runId\n        name\n        architecture\n        dSae\n        k\n        sparsityCoefficient\n        l0\n        explainedVariance\n        ceLossRecovered\n        deadFraction\n        denseFraction\n        evalTokens\n        evaluated\n        onEvFront\n        onCeFront\n      }\n    }\n  }\n": types.CompareRunsDocument,
    "\n  query Datasets {\n    datasets {\n      id\n      name\n      model\n      hook\n      nTokens\n      complete\n    }\n  }\n": types.DatasetsDocument,
    "\n  query ExplainEstimate($runId: ID!, $options: JSON) {\n    explainEstimate(runId: $runId, options: $options) {\n      features\n      llmCalls\n      promptTokens\n      maxCompletionTokens\n      seconds\n      secondsPerCall\n      method\n      model\n      configured\n    }\n  }\n": types.ExplainEstimateDocument,
    "\n  mutation ExplainFeatures($runId: ID!, $options: JSON) {\n    explainFeatures(runId: $runId, options: $options) {\n      ...JobFields\n    }\n  }\n": types.ExplainFeaturesDocument,
    "\n  mutation AddExplanation($runId: ID!, $index: Int!, $text: String!, $description: String) {\n    addExplanation(runId: $runId, index: $index, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n": types.AddExplanationDocument,
    "\n  mutation EditExplanation($id: ID!, $text: String!, $description: String) {\n    editExplanation(id: $id, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n": types.EditExplanationDocument,
    "\n  query FeatureDetail($runId: ID!, $index: Int!) {\n    feature(runId: $runId, index: $index) {\n      runId\n      ...FeatureStats\n      labelDescription\n      topTokens {\n        token\n        value\n      }\n      explanations {\n        id\n        text\n        description\n        method\n        model\n        author\n        editable\n        sampleSize\n        sampleUnit\n        scores {\n          name\n          value\n          ciLow\n          ciHigh\n          n\n          unit\n          reason\n          help\n        }\n      }\n      histogram {\n        edges\n        counts\n        zeroFraction\n      }\n      topExamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n      }\n      quantileSamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n        quantile\n      }\n      logitLens {\n        top {\n          token\n          value\n        }\n        bottom {\n          token\n          value\n        }\n      }\n      decoderNeighbours {\n        index\n        label\n        score\n      }\n      coactivationNeighbours {\n        index\n        label\n        score\n      }\n    }\n  }\n": types.FeatureDetailDocument,
    "\n  query FeatureMap($runId: ID!) {\n    featureMap(runId: $runId) {\n      index\n      x\n      y\n      density\n      dead\n      dense\n      label\n    }\n  }\n": types.FeatureMapDocument,
    "\n  query FeatureTrace($runId: ID!, $index: Int!, $text: String!) {\n    featureActivations(runId: $runId, index: $index, text: $text) {\n      index\n      tokens\n      activations\n      maxActivation\n    }\n  }\n": types.FeatureTraceDocument,
    "\n  query FeaturesPage(\n    $runId: ID!\n    $page: Int!\n    $first: Int!\n    $sort: FeatureSort!\n    $order: SortOrder!\n    $filter: FeatureFilter\n  ) {\n    features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {\n      totalCount\n      page\n      pageSize\n      nodes {\n        ...FeatureStats\n      }\n    }\n  }\n": types.FeaturesPageDocument,
    "\n  mutation ImportSae($input: ImportSaeInput!) {\n    importSae(input: $input) {\n      ...JobFields\n    }\n  }\n": types.ImportSaeDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n      config\n      children {\n        ...JobFields\n      }\n    }\n  }\n": types.JobDocument,
    "\n  query Jobs($first: Int!) {\n    pipelines: jobs(kind: PIPELINE, first: $first) {\n      ...JobFields\n    }\n    jobs(first: $first) {\n      ...JobFields\n    }\n  }\n": types.JobsDocument,
    "\n  query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {\n    analysePrompt(runId: $runId, text: $text, topK: $topK) {\n      tokens {\n        position\n        token\n        l0\n        maxActivation\n        features {\n          index\n          label\n          activation\n        }\n      }\n    }\n  }\n": types.AnalysePromptDocument,
    "\n  mutation RelabelFeature($runId: ID!, $index: Int!, $label: String!) {\n    relabelFeature(runId: $runId, index: $index, label: $label) {\n      runId\n      index\n      label\n      labelSource\n    }\n  }\n": types.RelabelFeatureDocument,
    "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n      status\n      createdAt\n      datasetId\n      model\n      hook\n      dIn\n      config\n      eval {\n        values\n        explainedVariance\n        l0\n        mse\n        ceLossRecovered\n        klDivergence\n        deadFraction\n        denseFraction\n      }\n      densityHistogram {\n        edges\n        counts\n        zeroFraction\n      }\n    }\n  }\n": types.RunDocument,
    "\n  query RunFacts($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n    }\n  }\n": types.RunFactsDocument,
    "\n  query Runs {\n    runs {\n      id\n      name\n      status\n      createdAt\n      model\n      hook\n      architecture\n      dSae\n      analysed\n      featureCount\n    }\n  }\n": types.RunsDocument,
    "\n  query Search($runId: ID!, $query: String!, $first: Int!) {\n    search(runId: $runId, query: $query, first: $first) {\n      index\n      label\n      grade\n      density\n      score\n      field\n      snippet\n    }\n  }\n": types.SearchDocument,
    "\n  query ServerInfo {\n    serverInfo {\n      version\n      mode\n      authRequired\n      maxPromptTokens\n      maxPageSize\n    }\n  }\n": types.ServerInfoDocument,
    "\n  query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!, $temperature: Float!, $seed: Int!) {\n    steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens, temperature: $temperature, seed: $seed) {\n      promptTokens\n      baselineText\n      steeredText\n      steps {\n        position\n        kl\n        changed\n        baseline {\n          token\n          probability\n        }\n        steered {\n          token\n          probability\n        }\n        baselineTop {\n          token\n          probability\n        }\n        steeredTop {\n          token\n          probability\n        }\n      }\n    }\n  }\n": types.SteerDocument,
    "\n  mutation SubmitPipeline($input: PipelineInput!) {\n    submitPipeline(input: $input) {\n      ...JobFields\n    }\n  }\n": types.SubmitPipelineDocument,
    "\n  mutation SubmitTraining($datasetId: ID!, $config: JSON!, $name: String) {\n    submitTraining(datasetId: $datasetId, config: $config, name: $name) {\n      ...JobFields\n    }\n  }\n": types.SubmitTrainingDocument,
    "\n  mutation SubmitSweep($input: SweepInput!) {\n    submitSweep(input: $input) {\n      ...JobFields\n    }\n  }\n": types.SubmitSweepDocument,
    "\n  query SweepRuns($id: ID!) {\n    job(id: $id) {\n      id\n      datasetId\n      sweepRuns {\n        member\n        runId\n        name\n        architecture\n        dSae\n        stepsDone\n        trained\n        evaluated\n        analysed\n      }\n    }\n  }\n": types.SweepRunsDocument,
    "\n  fragment MetricFields on MetricPoint {\n    step\n    loss\n    mse\n    l1\n    l0\n    explainedVariance\n    deadFraction\n  }\n": types.MetricFieldsFragmentDoc,
    "\n  query RunMetrics($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      metrics {\n        ...MetricFields\n      }\n    }\n  }\n": types.RunMetricsDocument,
    "\n  subscription TrainingMetrics($runId: ID!) {\n    trainingMetrics(runId: $runId) {\n      ...MetricFields\n    }\n  }\n": types.TrainingMetricsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment FeatureStats on Feature {\n    index\n    label\n    labelSource\n    grade\n    labelScore\n    density\n    log10Density\n    meanActivation\n    maxActivation\n    nActive\n    dead\n    dense\n  }\n"): (typeof documents)["\n  fragment FeatureStats on Feature {\n    index\n    label\n    labelSource\n    grade\n    labelScore\n    density\n    log10Density\n    meanActivation\n    maxActivation\n    nActive\n    dead\n    dense\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobFields on Job {\n    id\n    kind\n    status\n    name\n    progress\n    stage\n    message\n    attempts\n    error\n    createdAt\n    startedAt\n    finishedAt\n    parentId\n    runId\n    datasetId\n  }\n"): (typeof documents)["\n  fragment JobFields on Job {\n    id\n    kind\n    status\n    name\n    progress\n    stage\n    message\n    attempts\n    error\n    createdAt\n    startedAt\n    finishedAt\n    parentId\n    runId\n    datasetId\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdates($jobId: ID) {\n    jobUpdates(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  subscription JobUpdates($jobId: ID) {\n    jobUpdates(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunFactsFields on Run {\n    id\n    name\n    architecture\n    dSae\n    featureCount\n    analysed\n    grades\n    summary\n  }\n"): (typeof documents)["\n  fragment RunFactsFields on Run {\n    id\n    name\n    architecture\n    dSae\n    featureCount\n    analysed\n    grades\n    summary\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {\n    attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {\n      position\n      target\n      logit\n      probability\n      tokens {\n        position\n        token\n        positive {\n          index\n          label\n          activation\n          attribution\n        }\n        negative {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n      check {\n        position\n        predictedChange\n        actualChange\n        agrees\n        feature {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {\n    attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {\n      position\n      target\n      logit\n      probability\n      tokens {\n        position\n        token\n        positive {\n          index\n          label\n          activation\n          attribution\n        }\n        negative {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n      check {\n        position\n        predictedChange\n        actualChange\n        agrees\n        feature {\n          index\n          label\n          activation\n          attribution\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CompareRuns($datasetId: ID, $runIds: [ID!]) {\n    compareRuns(datasetId: $datasetId, runIds: $runIds) {\n      datasetId\n      points {\n        runId\n        name\n        architecture\n        dSae\n        k\n        sparsityCoefficient\n        l0\n        explainedVariance\n        ceLossRecovered\n        deadFraction\n        denseFraction\n        evalTokens\n        evaluated\n        onEvFront\n        onCeFront\n      }\n    }\n  }\n"): (typeof documents)["\n  query CompareRuns($datasetId: ID, $runIds: [ID!]) {\n    compareRuns(datasetId: $datasetId, runIds: $runIds) {\n      datasetId\n      points {\n        runId\n        name\n        architecture\n        dSae\n        k\n        sparsityCoefficient\n        l0\n        explainedVariance\n        ceLossRecovered\n        deadFraction\n        denseFraction\n        evalTokens\n        evaluated\n        onEvFront\n        onCeFront\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Datasets {\n    datasets {\n      id\n      name\n      model\n      hook\n      nTokens\n      complete\n    }\n  }\n"): (typeof documents)["\n  query Datasets {\n    datasets {\n      id\n      name\n      model\n      hook\n      nTokens\n      complete\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplainEstimate($runId: ID!, $options: JSON) {\n    explainEstimate(runId: $runId, options: $options) {\n      features\n      llmCalls\n      promptTokens\n      maxCompletionTokens\n      seconds\n      secondsPerCall\n      method\n      model\n      configured\n    }\n  }\n"): (typeof documents)["\n  query ExplainEstimate($runId: ID!, $options: JSON) {\n    explainEstimate(runId: $runId, options: $options) {\n      features\n      llmCalls\n      promptTokens\n      maxCompletionTokens\n      seconds\n      secondsPerCall\n      method\n      model\n      configured\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExplainFeatures($runId: ID!, $options: JSON) {\n    explainFeatures(runId: $runId, options: $options) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation ExplainFeatures($runId: ID!, $options: JSON) {\n    explainFeatures(runId: $runId, options: $options) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddExplanation($runId: ID!, $index: Int!, $text: String!, $description: String) {\n    addExplanation(runId: $runId, index: $index, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n"): (typeof documents)["\n  mutation AddExplanation($runId: ID!, $index: Int!, $text: String!, $description: String) {\n    addExplanation(runId: $runId, index: $index, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EditExplanation($id: ID!, $text: String!, $description: String) {\n    editExplanation(id: $id, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n"): (typeof documents)["\n  mutation EditExplanation($id: ID!, $text: String!, $description: String) {\n    editExplanation(id: $id, text: $text, description: $description) {\n      id\n      text\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FeatureDetail($runId: ID!, $index: Int!) {\n    feature(runId: $runId, index: $index) {\n      runId\n      ...FeatureStats\n      labelDescription\n      topTokens {\n        token\n        value\n      }\n      explanations {\n        id\n        text\n        description\n        method\n        model\n        author\n        editable\n        sampleSize\n        sampleUnit\n        scores {\n          name\n          value\n          ciLow\n          ciHigh\n          n\n          unit\n          reason\n          help\n        }\n      }\n      histogram {\n        edges\n        counts\n        zeroFraction\n      }\n      topExamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n      }\n      quantileSamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n        quantile\n      }\n      logitLens {\n        top {\n          token\n          value\n        }\n        bottom {\n          token\n          value\n        }\n      }\n      decoderNeighbours {\n        index\n        label\n        score\n      }\n      coactivationNeighbours {\n        index\n        label\n        score\n      }\n    }\n  }\n"): (typeof documents)["\n  query FeatureDetail($runId: ID!, $index: Int!) {\n    feature(runId: $runId, index: $index) {\n      runId\n      ...FeatureStats\n      labelDescription\n      topTokens {\n        token\n        value\n      }\n      explanations {\n        id\n        text\n        description\n        method\n        model\n        author\n        editable\n        sampleSize\n        sampleUnit\n        scores {\n          name\n          value\n          ciLow\n          ciHigh\n          n\n          unit\n          reason\n          help\n        }\n      }\n      histogram {\n        edges\n        counts\n        zeroFraction\n      }\n      topExamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n      }\n      quantileSamples {\n        tokens\n        activations\n        maxPosition\n        maxActivation\n        quantile\n      }\n      logitLens {\n        top {\n          token\n          value\n        }\n        bottom {\n          token\n          value\n        }\n      }\n      decoderNeighbours {\n        index\n        label\n        score\n      }\n      coactivationNeighbours {\n        index\n        label\n        score\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FeatureMap($runId: ID!) {\n    featureMap(runId: $runId) {\n      index\n      x\n      y\n      density\n      dead\n      dense\n      label\n    }\n  }\n"): (typeof documents)["\n  query FeatureMap($runId: ID!) {\n    featureMap(runId: $runId) {\n      index\n      x\n      y\n      density\n      dead\n      dense\n      label\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FeatureTrace($runId: ID!, $index: Int!, $text: String!) {\n    featureActivations(runId: $runId, index: $index, text: $text) {\n      index\n      tokens\n      activations\n      maxActivation\n    }\n  }\n"): (typeof documents)["\n  query FeatureTrace($runId: ID!, $index: Int!, $text: String!) {\n    featureActivations(runId: $runId, index: $index, text: $text) {\n      index\n      tokens\n      activations\n      maxActivation\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FeaturesPage(\n    $runId: ID!\n    $page: Int!\n    $first: Int!\n    $sort: FeatureSort!\n    $order: SortOrder!\n    $filter: FeatureFilter\n  ) {\n    features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {\n      totalCount\n      page\n      pageSize\n      nodes {\n        ...FeatureStats\n      }\n    }\n  }\n"): (typeof documents)["\n  query FeaturesPage(\n    $runId: ID!\n    $page: Int!\n    $first: Int!\n    $sort: FeatureSort!\n    $order: SortOrder!\n    $filter: FeatureFilter\n  ) {\n    features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {\n      totalCount\n      page\n      pageSize\n      nodes {\n        ...FeatureStats\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportSae($input: ImportSaeInput!) {\n    importSae(input: $input) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation ImportSae($input: ImportSaeInput!) {\n    importSae(input: $input) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n      config\n      children {\n        ...JobFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobFields\n      config\n      children {\n        ...JobFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($first: Int!) {\n    pipelines: jobs(kind: PIPELINE, first: $first) {\n      ...JobFields\n    }\n    jobs(first: $first) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  query Jobs($first: Int!) {\n    pipelines: jobs(kind: PIPELINE, first: $first) {\n      ...JobFields\n    }\n    jobs(first: $first) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {\n    analysePrompt(runId: $runId, text: $text, topK: $topK) {\n      tokens {\n        position\n        token\n        l0\n        maxActivation\n        features {\n          index\n          label\n          activation\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {\n    analysePrompt(runId: $runId, text: $text, topK: $topK) {\n      tokens {\n        position\n        token\n        l0\n        maxActivation\n        features {\n          index\n          label\n          activation\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RelabelFeature($runId: ID!, $index: Int!, $label: String!) {\n    relabelFeature(runId: $runId, index: $index, label: $label) {\n      runId\n      index\n      label\n      labelSource\n    }\n  }\n"): (typeof documents)["\n  mutation RelabelFeature($runId: ID!, $index: Int!, $label: String!) {\n    relabelFeature(runId: $runId, index: $index, label: $label) {\n      runId\n      index\n      label\n      labelSource\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n      status\n      createdAt\n      datasetId\n      model\n      hook\n      dIn\n      config\n      eval {\n        values\n        explainedVariance\n        l0\n        mse\n        ceLossRecovered\n        klDivergence\n        deadFraction\n        denseFraction\n      }\n      densityHistogram {\n        edges\n        counts\n        zeroFraction\n      }\n    }\n  }\n"): (typeof documents)["\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n      status\n      createdAt\n      datasetId\n      model\n      hook\n      dIn\n      config\n      eval {\n        values\n        explainedVariance\n        l0\n        mse\n        ceLossRecovered\n        klDivergence\n        deadFraction\n        denseFraction\n      }\n      densityHistogram {\n        edges\n        counts\n        zeroFraction\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunFacts($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n    }\n  }\n"): (typeof documents)["\n  query RunFacts($id: ID!) {\n    run(id: $id) {\n      ...RunFactsFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runs {\n    runs {\n      id\n      name\n      status\n      createdAt\n      model\n      hook\n      architecture\n      dSae\n      analysed\n      featureCount\n    }\n  }\n"): (typeof documents)["\n  query Runs {\n    runs {\n      id\n      name\n      status\n      createdAt\n      model\n      hook\n      architecture\n      dSae\n      analysed\n      featureCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Search($runId: ID!, $query: String!, $first: Int!) {\n    search(runId: $runId, query: $query, first: $first) {\n      index\n      label\n      grade\n      density\n      score\n      field\n      snippet\n    }\n  }\n"): (typeof documents)["\n  query Search($runId: ID!, $query: String!, $first: Int!) {\n    search(runId: $runId, query: $query, first: $first) {\n      index\n      label\n      grade\n      density\n      score\n      field\n      snippet\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ServerInfo {\n    serverInfo {\n      version\n      mode\n      authRequired\n      maxPromptTokens\n      maxPageSize\n    }\n  }\n"): (typeof documents)["\n  query ServerInfo {\n    serverInfo {\n      version\n      mode\n      authRequired\n      maxPromptTokens\n      maxPageSize\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!, $temperature: Float!, $seed: Int!) {\n    steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens, temperature: $temperature, seed: $seed) {\n      promptTokens\n      baselineText\n      steeredText\n      steps {\n        position\n        kl\n        changed\n        baseline {\n          token\n          probability\n        }\n        steered {\n          token\n          probability\n        }\n        baselineTop {\n          token\n          probability\n        }\n        steeredTop {\n          token\n          probability\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!, $temperature: Float!, $seed: Int!) {\n    steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens, temperature: $temperature, seed: $seed) {\n      promptTokens\n      baselineText\n      steeredText\n      steps {\n        position\n        kl\n        changed\n        baseline {\n          token\n          probability\n        }\n        steered {\n          token\n          probability\n        }\n        baselineTop {\n          token\n          probability\n        }\n        steeredTop {\n          token\n          probability\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitPipeline($input: PipelineInput!) {\n    submitPipeline(input: $input) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation SubmitPipeline($input: PipelineInput!) {\n    submitPipeline(input: $input) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitTraining($datasetId: ID!, $config: JSON!, $name: String) {\n    submitTraining(datasetId: $datasetId, config: $config, name: $name) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation SubmitTraining($datasetId: ID!, $config: JSON!, $name: String) {\n    submitTraining(datasetId: $datasetId, config: $config, name: $name) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitSweep($input: SweepInput!) {\n    submitSweep(input: $input) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation SubmitSweep($input: SweepInput!) {\n    submitSweep(input: $input) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SweepRuns($id: ID!) {\n    job(id: $id) {\n      id\n      datasetId\n      sweepRuns {\n        member\n        runId\n        name\n        architecture\n        dSae\n        stepsDone\n        trained\n        evaluated\n        analysed\n      }\n    }\n  }\n"): (typeof documents)["\n  query SweepRuns($id: ID!) {\n    job(id: $id) {\n      id\n      datasetId\n      sweepRuns {\n        member\n        runId\n        name\n        architecture\n        dSae\n        stepsDone\n        trained\n        evaluated\n        analysed\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MetricFields on MetricPoint {\n    step\n    loss\n    mse\n    l1\n    l0\n    explainedVariance\n    deadFraction\n  }\n"): (typeof documents)["\n  fragment MetricFields on MetricPoint {\n    step\n    loss\n    mse\n    l1\n    l0\n    explainedVariance\n    deadFraction\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunMetrics($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      metrics {\n        ...MetricFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query RunMetrics($id: ID!) {\n    run(id: $id) {\n      id\n      status\n      metrics {\n        ...MetricFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TrainingMetrics($runId: ID!) {\n    trainingMetrics(runId: $runId) {\n      ...MetricFields\n    }\n  }\n"): (typeof documents)["\n  subscription TrainingMetrics($runId: ID!) {\n    trainingMetrics(runId: $runId) {\n      ...MetricFields\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
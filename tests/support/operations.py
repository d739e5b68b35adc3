"""The web client's read operations (as urql sends them, ``__typename`` aside), for the tests and the gateway bench.

Copies of the documents in ``web/src/hooks`` that the gateway tests compare fast and stock execution on and that
``bench/gateway_latency.py`` loads the gateway with; keep them in step with the client's.
"""

FEATURES_PAGE = """query FeaturesPage($runId: ID!, $page: Int!, $first: Int!, $sort: FeatureSort!,
  $order: SortOrder!, $filter: FeatureFilter) {
  features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {
    totalCount page pageSize
    nodes { index label grade labelScore density log10Density meanActivation maxActivation }
  }
}"""
FEATURE_DETAIL = """query FeatureDetail($runId: ID!, $index: Int!) {
  feature(runId: $runId, index: $index) {
    runId index label labelSource labelDescription grade labelScore density log10Density meanActivation
    maxActivation nActive dead dense
    topTokens { token value }
    histogram { edges counts zeroFraction }
    topExamples { tokens activations maxPosition maxActivation }
    quantileSamples { tokens activations maxPosition maxActivation quantile }
    logitLens { top { token value } bottom { token value } }
    decoderNeighbours { index label score }
    coactivationNeighbours { index label score }
  }
}"""
SEARCH = """query Search($runId: ID!, $query: String!, $first: Int!) {
  search(runId: $runId, query: $query, first: $first) { index label grade density score field snippet }
}"""
ANALYSE_PROMPT = """query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {
  analysePrompt(runId: $runId, text: $text, topK: $topK) {
    tokens { position token l0 maxActivation features { index label activation } }
  }
}"""

STEER = """query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!,
  $temperature: Float!, $seed: Int!) {
  steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens,
    temperature: $temperature, seed: $seed) {
    promptTokens baselineText steeredText
    steps { position kl changed baseline { token probability } steered { token probability }
      baselineTop { token probability } steeredTop { token probability } }
  }
}"""

ATTRIBUTE = """query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {
  attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {
    position target logit probability
    tokens { position token positive { index label activation attribution } negative { index label activation attribution } }
    check { position predictedChange actualChange agrees feature { index label activation attribution } }
  }
}"""

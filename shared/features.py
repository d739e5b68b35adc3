"""Records of feature-analysis results shared by the results export, the database insertion and the gateway.

No torch here: these are plain pydantic models that round-trip through JSON. One analysis of one run produces:

- one :class:`RunSummary` (``results/summary.json``),
- one :class:`FeatureRecord` per SAE feature, dead ones included (``results/features.jsonl``),
- several :class:`ExampleRecord` per live feature: top activating contexts and quantile samples
  (``results/examples.jsonl``),
- one :class:`TokenIndexRecord` per vocabulary token that occurs in the analysed tokens (``results/token_index.jsonl``).

Conventions: densities are fractions of analysed tokens in [0, 1]; ``log10_density`` is None when the density is 0
(JSON has no -inf); feature indices are the SAE's own (0 .. d_sae-1), so ``(run, index)`` is the natural key that
makes database insertion idempotent (re-analysis replaces a run's rows instead of adding to them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.explanations import Score

RESULTS_FORMAT = "saelab-results/1"
"""Format tag written into summary.json; readers refuse anything else."""

Grade = Literal["High", "Medium", "Low"]
"""Monosemanticity grade of an auto-label (the original spec's case-study table)."""

ExampleKind = Literal["top", "quantile"]
"""``top``: one of the k highest-activating contexts; ``quantile``: a random sample from an activation-range bin."""


class Record(BaseModel):
    """Base of every record: unknown keys are errors, so a format drift fails loudly at load time."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


# --------------------------------------------------------------------------------------------------------------
# Small value types
# --------------------------------------------------------------------------------------------------------------


class Histogram(Record):
    """Counts over bins: ``counts[i]`` falls in ``[edges[i], edges[i+1])``; ``len(edges) == len(counts) + 1``."""

    edges: list[float]
    """Bin edges, increasing (log-spaced for activation histograms)."""
    counts: list[int]
    """Values per bin."""
    zero_fraction: float | None = None
    """Fraction of all values that are exactly zero and so not binned (None where it does not apply)."""


class TokenValue(Record):
    """A vocabulary token with a score (a logit-lens logit, a firing count, ...)."""

    token: str
    """Decoded token text, e.g. ``" cat"`` (leading space kept)."""
    token_id: int
    """Token id in the model's vocabulary."""
    value: float
    """The score; its meaning is given by the field holding the list."""


class FeatureRef(Record):
    """A reference to another feature of the same run with a similarity score."""

    index: int
    """The other feature's index."""
    score: float
    """Similarity: cosine of decoder directions, or Jaccard index of firing (see the holding field)."""


class FeatureScore(Record):
    """A feature with one number, for the run summary's top lists."""

    index: int
    """Feature index."""
    value: float
    """Density or max activation (see the holding field)."""


# --------------------------------------------------------------------------------------------------------------
# Per-feature record
# --------------------------------------------------------------------------------------------------------------


class FeatureRecord(Record):
    """Everything the analysis knows about one feature (one row of ``features.jsonl``)."""

    index: int = Field(ge=0)
    """Feature index in the SAE (0 .. d_sae-1)."""
    n_active: int = Field(ge=0)
    """Analysed tokens on which the feature fired (activation > 0)."""
    density: float = Field(ge=0, le=1)
    """n_active / analysed tokens."""
    log10_density: float | None
    """log10(density); None when the feature never fired."""
    mean_activation: float = Field(ge=0)
    """Mean activation over the tokens where it fired (0 for a dead feature)."""
    max_activation: float = Field(ge=0)
    """Largest activation seen (0 for a dead feature)."""
    dead: bool
    """Never fired on the analysed tokens."""
    dense: bool
    """Fired on more than the config's ``dense_threshold`` fraction of tokens."""
    histogram: Histogram
    """Log-spaced histogram of the nonzero activations; ``zero_fraction`` = 1 - density."""
    top_tokens: list[TokenValue] = Field(default_factory=list)
    """Tokens the feature fires on most: value = fraction of the feature's firings that land on that token."""
    top_logits: list[TokenValue] = Field(default_factory=list)
    """Logit lens: tokens whose logits the decoder direction raises most (value = logit), highest first."""
    bottom_logits: list[TokenValue] = Field(default_factory=list)
    """Logit lens: tokens whose logits the decoder direction lowers most (value = logit), lowest first."""
    decoder_neighbours: list[FeatureRef] = Field(default_factory=list)
    """Features with the most similar decoder direction (score = cosine), itself excluded, highest first."""
    coactivation_neighbours: list[FeatureRef] = Field(default_factory=list)
    """Features that fire on the same tokens (score = Jaccard index of firing), highest first."""
    label: str | None = None
    """Short human-readable label (None for dead features)."""
    label_source: Literal["auto", "human"] = "auto"
    """Where the label came from: the auto-labeller, or a person (relabelled in the UI)."""
    label_description: str | None = None
    """Longer explanation of the label: the tokens it fires on and the tokens it promotes."""
    label_score: float | None = None
    """The label's held-out F1 (the ``F1`` entry of ``label_scores``); None when not measurable or too few firings."""
    grade: Grade | None = None
    """Legacy grade from ``label_score`` (High >= 0.7, Medium >= 0.4, else Low) kept for old clients; None when not
    measurable (dead, or fewer than ``shared.explanations.MIN_HELDOUT_FIRINGS`` held-out firings)."""
    label_method: str | None = None
    """Method that made the auto label (``shared.explanations.OFFLINE_METHOD`` by default); None when unlabelled."""
    label_model: str | None = None
    """Model that wrote the auto label (None for the offline labeller)."""
    map_x: float | None = None
    """Horizontal position in [0, 1] on the 2-D dictionary map (similar decoder directions lie close); None: no map."""
    map_y: float | None = None
    """Vertical position in [0, 1] on the 2-D dictionary map."""
    label_scores: list[Score] = Field(default_factory=list)
    """The auto label's named scores on held-out contexts (F1, precision, recall with intervals and samples)."""


# --------------------------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------------------------


class ExampleRecord(Record):
    """One context window around an activation of one feature (one row of ``examples.jsonl``)."""

    feature: int = Field(ge=0)
    """Feature index."""
    kind: ExampleKind
    """``top`` (k highest, one per context) or ``quantile`` (random sample from an activation-range bin)."""
    bin: int | None = None
    """Quantile samples: the activation-range bin, 0 = lowest; None for top examples."""
    bin_range: tuple[float, float] | None = None
    """Quantile samples: the bin's activation range [low, high); None for top examples."""
    rank: int = Field(ge=0)
    """Position in its list: 0 = highest activation among the top examples; sample order within a bin."""
    context: int = Field(ge=0)
    """Context (row) index in the activation dataset, counting across shards."""
    position: int = Field(ge=0)
    """Token position within that context of the centre (max) token."""
    tokens: list[str]
    """Decoded tokens of the window (window_left before the centre, window_right after, clipped to the context)."""
    token_ids: list[int]
    """Token ids of the window."""
    activations: list[float]
    """This feature's activation on every token of the window."""
    max_position: int = Field(ge=0)
    """Index into ``tokens`` of the centre token (the one the example was selected for)."""
    max_activation: float
    """The activation at the centre token."""


# --------------------------------------------------------------------------------------------------------------
# Token index
# --------------------------------------------------------------------------------------------------------------


class TokenFeature(Record):
    """A feature's response to one vocabulary token."""

    index: int
    """Feature index."""
    mean_activation: float
    """Mean activation of the feature over every occurrence of the token (zeros included)."""
    fire_fraction: float
    """Fraction of the token's occurrences on which the feature fired."""


class TokenIndexRecord(Record):
    """Which features respond to one vocabulary token (one row of ``token_index.jsonl``)."""

    token_id: int
    """Token id."""
    token: str
    """Decoded token text, e.g. ``" mouse"``."""
    count: int = Field(ge=1)
    """Occurrences among the analysed tokens."""
    features: list[TokenFeature]
    """Features with the highest mean activation on this token, strongest first."""


# --------------------------------------------------------------------------------------------------------------
# Run summary
# --------------------------------------------------------------------------------------------------------------


class RunSummary(Record):
    """Run-level results of one analysis (``summary.json``)."""

    format: str = RESULTS_FORMAT
    """Results format tag."""
    run: str
    """Run directory (or id) analysed."""
    model_name: str
    """LM the activations came from."""
    hook_name: str
    """Hook point."""
    architecture: str
    """SAE architecture."""
    d_in: int
    """Activation width."""
    d_sae: int
    """Number of features."""
    activations_path: str
    """Activation dataset analysed."""
    n_tokens: int
    """Tokens that entered the statistics (BOS positions excluded when configured)."""
    n_contexts: int
    """Contexts read."""
    n_dead: int
    """Features that never fired."""
    n_dense: int
    """Features firing on more than ``dense_threshold`` of the tokens."""
    n_alive: int
    """Features that fired at least once (dense ones included)."""
    dense_threshold: float
    """Density above which a feature counts as dense."""
    density_histogram: Histogram
    """Histogram of log10(density) over the features that fired; ``zero_fraction`` = dead fraction."""
    top_by_density: list[FeatureScore]
    """Densest features, highest first."""
    top_by_max_activation: list[FeatureScore]
    """Features with the largest max activation, highest first."""
    grade_counts: dict[str, int] = Field(default_factory=dict)
    """Number of features per auto-label grade (High / Medium / Low)."""
    config: dict[str, object] = Field(default_factory=dict)
    """The AnalyseConfig used (snake_case keys)."""
    created_at: str
    """ISO-8601 UTC time the analysis finished."""
    seconds: float
    """Wall time of the analysis."""
    tokens_per_s: float
    """Streaming-pass throughput (encode + statistics), tokens per second."""
    files: dict[str, str] = Field(default_factory=dict)
    """Kind -> file name inside results/, e.g. {"features": "features.jsonl"}."""

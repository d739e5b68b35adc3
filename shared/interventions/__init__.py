"""Interventions on an SAE's features inside a running LM: steer, clamp, scale or ablate features, generate with
them, and attribute a target logit to features.

Modules: ``spec`` (what one intervention is: a feature, a kind, a value, the positions), ``splice`` (the hook that
applies interventions at the SAE's hook point keeping the SAE's error, and the intervened logits), ``steer``
(baseline and intervened generation side by side, with per-position top tokens and KL), ``attribute``
(activation x gradient attribution of a target logit to every feature at every position, with an ablation check).
"""

from shared.interventions.attribute import Attribution, FeatureScore, attribute
from shared.interventions.spec import KINDS, Intervention, InterventionError, Kind, Positions
from shared.interventions.splice import InterventionHook, intervened_logits
from shared.interventions.steer import GeneratedStep, Steered, TokenProb, steer

__all__ = [
    "KINDS",
    "Attribution",
    "FeatureScore",
    "GeneratedStep",
    "Intervention",
    "InterventionError",
    "InterventionHook",
    "Kind",
    "Positions",
    "Steered",
    "TokenProb",
    "attribute",
    "intervened_logits",
    "steer",
]

"""Interventions on the tiny GPT-2 with a random SAE and a planted feature: exactness of the splice, steering by the
expected amount, positions across the KV cache, ablation against the spliced-in SAE, attribution against finite
differences."""

from __future__ import annotations

import importlib
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from support.tiny_lms import computing_blocks, save_tiny

from shared.interventions import (
    Intervention,
    InterventionError,
    InterventionHook,
    Positions,
    attribute,
    intervened_logits,
    steer,
)
from shared.lm import LanguageModel, load_lm
from shared.lm.resume import BlockPrefix
from shared.sae import SAEConfig, create_sae

LAST = "blocks.3.hook_resid_post"  # the tiny GPT-2's last block: the rest of the model is ln_f and the head
MID = "blocks.1.hook_resid_pre"
D_SAE = 16
PLANTED = 7
PROMPT = "The cat sat on the mat. It was"


@pytest.fixture(scope="module")
def lm(tiny_gpt2_dir: Path) -> LanguageModel:
    return load_lm(str(tiny_gpt2_dir))


@pytest.fixture(scope="module")
def target(lm: LanguageModel) -> int:
    return lm.tokenizer(" dog", add_special_tokens=False)["input_ids"][0]


def make_sae(
    lm: LanguageModel, hook: str, planted_token: int | None = None, **cfg: object
) -> torch.nn.Module:
    """A random SAE (ReLU unless ``cfg`` names another architecture; seed 0) with biases; feature PLANTED's decoder
    row is the unit unembedding of ``planted_token`` when given."""
    torch.manual_seed(0)
    cfg = {"architecture": "relu", "d_sae": D_SAE, **cfg}
    sae = create_sae(SAEConfig(d_in=64, hook_name=hook, **cfg))  # type: ignore[arg-type]
    with torch.no_grad():
        sae.b_enc.uniform_(0.0, 0.3)  # most features fire: ablating one changes something
        sae.b_dec.normal_(0, 0.05)
        if planted_token is not None:
            row = lm.model.get_output_embeddings().weight[planted_token]
            sae.W_dec[PLANTED] = row / row.norm()
    return sae.eval()


def ids_of(lm: LanguageModel, text: str = PROMPT) -> list[int]:
    return lm.tokenizer(text, add_special_tokens=False)["input_ids"]


def with_bos(lm: LanguageModel, ids: list[int]) -> torch.Tensor:
    return torch.tensor([[lm.bos_token_id, *ids]])


# ---- the splice is exact ---------------------------------------------------------------------------------------


def test_no_intervention_reproduces_the_clean_logits_bit_for_bit(lm: LanguageModel) -> None:
    sae = make_sae(lm, MID)
    ids = with_bos(lm, ids_of(lm))
    clean = lm.logits_with_replacement(ids, MID)
    assert torch.equal(intervened_logits(lm, sae, ids, []), clean)
    identity = [Intervention(i, "scale", 1.0) for i in range(D_SAE)]  # f' = f: nothing changes either
    assert torch.equal(intervened_logits(lm, sae, ids, identity), clean)


@pytest.mark.parametrize("cfg", [{}, {"normalize_activations": "layer_norm"}, {"center_input": True}])
def test_ablating_every_feature_equals_the_spliced_sae_with_its_error(lm: LanguageModel, cfg: dict) -> None:
    """x' = x - sae(x) + sae's output for f = 0: the SAE spliced in (its own forward) with every feature at zero,
    the error term x - sae(x) kept; ablate, clamp to 0 and scale by 0 are the same thing."""
    sae = make_sae(lm, MID, **cfg)
    ids = with_bos(lm, ids_of(lm))
    zeros = torch.zeros(1, D_SAE)

    def splice(x: torch.Tensor) -> torch.Tensor:
        out = x - sae(x) + sae.denormalise_output(sae.decode(zeros), x)
        out[:, 0] = x[:, 0]  # BOS is never intervened on
        return out

    expected = lm.logits_with_replacement(ids, MID, splice)
    clean = lm.logits_with_replacement(ids, MID)
    for kind, value in (("ablate", 0.0), ("clamp", 0.0), ("scale", 0.0)):
        got = intervened_logits(lm, sae, ids, [Intervention(i, kind, value) for i in range(D_SAE)])  # type: ignore[arg-type]
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert (expected - clean).abs().max() > 1e-2  # the ablation did change the model


@pytest.mark.parametrize(
    ("kind", "value", "new"),
    [
        ("steer", 2.5, lambda f: f + 2.5),
        ("clamp", 3.0, lambda f: torch.full_like(f, 3.0)),
        ("scale", -2.0, lambda f: -2.0 * f),
        ("ablate", 0.0, torch.zeros_like),
    ],
)
def test_each_kind_adds_its_decoder_difference_at_its_positions(
    lm: LanguageModel, kind: str, value: float, new
) -> None:
    sae = make_sae(lm, MID, normalize_activations="layer_norm")
    x = torch.randn(1, 6, 64, generator=torch.Generator().manual_seed(3)) * 5
    feature = int(sae.encode(x)[0, 2].argmax())  # active at position 1 (BOS is position -1)
    hook = InterventionHook(sae, [Intervention(feature, kind, value, Positions.at(1, 3))], bos=True)  # type: ignore[arg-type]
    out = hook(x.clone())
    assert out is not None
    f = sae.encode(x)[0, :, feature]
    std = (x - x.mean(-1, keepdim=True)).std(-1, keepdim=True)[0]
    expected = x[0].clone()
    for p in (2, 4):  # positions 1 and 3 after BOS
        expected[p] += std[p] * (new(f[p : p + 1]) - f[p : p + 1]) * sae.W_dec[feature]
    torch.testing.assert_close(out[0], expected, rtol=1e-5, atol=1e-5)
    assert hook.offset == 5


# ---- steering ----------------------------------------------------------------------------------------------------


def test_steering_a_planted_feature_raises_its_token_by_the_expected_amount(
    tiny_gpt2_dir: Path, target: int
) -> None:
    """Steering at the last block adds s x the unit unembedding of " dog": P(" dog") at the next position is what
    ln_f and the head give for the clean residual plus that vector, and rises from near 0 to most of the mass (the
    random model's ln_f gain is raised to 30 so that its logits span more than a few hundredths)."""
    lm = load_lm(str(tiny_gpt2_dir))
    with torch.no_grad():
        lm.final_norm.weight.fill_(30.0)
    sae = make_sae(lm, LAST, planted_token=target)
    prompt = ids_of(lm)
    x = lm.activations(with_bos(lm, prompt), LAST)[0, -1]
    strength = 3 * float(x.norm())
    with torch.no_grad():
        logits = lm.model.lm_head(lm.final_norm(x + strength * sae.W_dec[PLANTED]))
    expected = float(torch.softmax(logits, -1)[target])
    out = steer(lm, sae, prompt, [Intervention(PLANTED, "steer", strength)], max_new_tokens=3)
    first = out.steps[0]
    p_clean = next((t.prob for t in first.baseline_top if t.token_id == target), 0.0)
    assert first.steered is not None and first.steered.token_id == target == out.steered_ids[0]
    assert first.steered.prob == pytest.approx(expected, rel=1e-4)
    assert expected > 0.5 and p_clean < 1e-3
    assert first.kl > 1.0 and out.steered_text.startswith(" dog")


def test_steer_reports_both_continuations_and_their_kl(lm: LanguageModel, target: int) -> None:
    """Step 0 shares the prompt: its top tokens and KL equal a direct forward of the prompt clean and steered."""
    sae = make_sae(lm, MID, planted_token=target)
    prompt = ids_of(lm)
    ivs = [Intervention(PLANTED, "steer", 4.0), Intervention(3, "ablate")]
    out = steer(lm, sae, prompt, ivs, max_new_tokens=4, top_k=3)
    ids = with_bos(lm, prompt)
    p = torch.log_softmax(lm.logits_with_replacement(ids, MID)[0, -1], -1)
    q = torch.log_softmax(intervened_logits(lm, sae, ids, ivs)[0, -1], -1)
    assert out.steps[0].kl == pytest.approx(float((p.exp() * (p - q)).sum()), rel=1e-4, abs=1e-6)
    assert [t.token_id for t in out.steps[0].steered_top] == q.topk(3).indices.tolist()
    assert [t.prob for t in out.steps[0].baseline_top] == pytest.approx(
        p.topk(3).values.exp().tolist(), rel=1e-4
    )
    assert len(out.steps) == 4 == len(out.baseline_ids) == len(out.steered_ids)
    assert [s.position for s in out.steps] == [len(prompt) + i for i in range(4)]
    assert out.baseline_text == lm.tokenizer.decode(out.baseline_ids)
    assert [s.baseline.token_id for s in out.steps if s.baseline] == out.baseline_ids


def test_generated_positions_are_counted_across_the_kv_cache(lm: LanguageModel, target: int) -> None:
    """An intervention on the first generated position only: step 0 is clean, and every step equals a full forward
    of the steered text with the same intervention (no cache)."""
    sae = make_sae(lm, MID, planted_token=target)
    prompt = ids_of(lm)
    ivs = [Intervention(PLANTED, "steer", 6.0, Positions.at(len(prompt)))]
    out = steer(lm, sae, prompt, ivs, max_new_tokens=4)
    assert out.steps[0].kl == 0.0 and out.steps[1].kl > 1e-3
    full = with_bos(lm, prompt + out.steered_ids[:-1])
    logp = torch.log_softmax(intervened_logits(lm, sae, full, ivs)[0], -1)
    for step in out.steps:
        top = logp[step.position].topk(5)  # BOS shifts by one: row position predicts position + 1
        assert [t.token_id for t in step.steered_top] == top.indices.tolist()
        assert [t.prob for t in step.steered_top] == pytest.approx(
            top.values.exp().tolist(), rel=1e-3, abs=1e-6
        )


def test_positions_from_and_chosen_leave_the_rest_alone(lm: LanguageModel, target: int) -> None:
    sae = make_sae(lm, MID, planted_token=target)
    ids = with_bos(lm, ids_of(lm))
    clean = lm.logits_with_replacement(ids, MID)[0]
    starting = intervened_logits(lm, sae, ids, [Intervention(PLANTED, "steer", 5.0, Positions.starting(4))])[
        0
    ]
    assert torch.equal(starting[:5], clean[:5]) and (starting[5:] - clean[5:]).abs().amax(-1).min() > 1e-3
    chosen = intervened_logits(lm, sae, ids, [Intervention(PLANTED, "steer", 5.0, Positions.at(2))])[0]
    assert torch.equal(chosen[:3], clean[:3]) and (chosen[3] - clean[3]).abs().max() > 1e-3


def test_empty_interventions_give_identical_continuations_greedy_and_sampled(lm: LanguageModel) -> None:
    sae = make_sae(lm, MID)
    for temperature in (0.0, 1.0):
        out = steer(lm, sae, ids_of(lm), [], max_new_tokens=6, temperature=temperature, seed=5)
        assert out.baseline_ids == out.steered_ids and all(s.kl == 0.0 for s in out.steps)
    a = steer(lm, sae, ids_of(lm), [], max_new_tokens=6, temperature=1.0, seed=5)
    b = steer(lm, sae, ids_of(lm), [], max_new_tokens=6, temperature=1.0, seed=6)
    assert a.baseline_ids == steer(lm, sae, ids_of(lm), [], 6, 1.0, 5).baseline_ids != b.baseline_ids


# ---- attribution -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        {},  # most features fire: the dense vector-Jacobian product
        {"normalize_activations": "layer_norm"},
        {"center_input": True},
        # 3 of 64 fire: the product at the active features only
        {"architecture": "topk", "k": 3, "d_sae": 64},
        {"architecture": "topk", "k": 3, "d_sae": 64, "normalize_activations": "layer_norm"},
    ],
    ids=["relu", "relu-layer-norm", "relu-centred", "topk-sparse", "topk-sparse-layer-norm"],
)
def test_attribution_equals_a_finite_difference_estimate(tiny_gpt2_dir: Path, cfg: dict) -> None:
    """activation x gradient = d logit / d(scale of f[p, i]) at scale 1, estimated by scaling the activation by
    1 +- h (float64 model and SAE, central difference), for each way the SAE maps its output back to raw
    activations and for both ways of computing the features' gradient."""
    lm = load_lm(str(tiny_gpt2_dir), dtype=torch.float64)
    sae = make_sae(lm, MID, **cfg).double()
    d_sae = int(sae.cfg.d_sae)
    prompt = ids_of(lm)
    out = attribute(lm, sae, prompt, top_k=3)
    ids = with_bos(lm, prompt)
    assert out.position == len(prompt) - 1
    clean = lm.logits_with_replacement(ids, MID)[0, -1]
    assert out.target_id == int(clean.argmax()) and out.logit == pytest.approx(float(clean.max()), rel=1e-9)
    flat = out.scores.abs().flatten().topk(4).indices.tolist() + [int(out.scores.abs().flatten().argmin())]
    h = 1e-4
    for pos, feature in (divmod(i, d_sae) for i in flat):
        logit = [
            float(
                intervened_logits(lm, sae, ids, [Intervention(feature, "scale", s, Positions.at(pos))])[
                    0, -1, out.target_id
                ]
            )
            for s in (1 + h, 1 - h)
        ]
        estimate = (logit[0] - logit[1]) / (2 * h)
        assert float(out.scores[pos, feature]) == pytest.approx(estimate, rel=1e-4, abs=1e-8)
    assert any(out.positive) and all(a.attribution > 0 for row in out.positive for a in row)
    assert all(a.attribution < 0 for row in out.negative for a in row)
    last = max(p for p, row in enumerate(out.positive) if row)
    assert [a.feature for a in out.positive[last]] == out.scores[last].topk(
        len(out.positive[last])
    ).indices.tolist()
    acts = sae.encode(lm.activations(ids, MID))[0, 1:].detach()  # BOS left out
    for p, row in [*enumerate(out.positive), *enumerate(out.negative)]:
        for a in row:  # each listed feature's own activation and attribution at its position
            assert a.attribution == float(out.scores[p, a.feature])
            assert a.activation == pytest.approx(float(acts[p, a.feature]), rel=1e-6)  # float32


def test_attribution_names_a_target_and_position_and_checks_its_sign(lm: LanguageModel, target: int) -> None:
    sae = make_sae(lm, MID, planted_token=target)
    prompt = ids_of(lm)
    out = attribute(lm, sae, prompt, target=target, position=3)
    assert out.target == " dog" and out.position == 3 and out.scores.shape == (4, D_SAE)
    ids = with_bos(lm, prompt[:4])
    ablated = intervened_logits(
        lm, sae, ids, [Intervention(out.check_feature, "ablate", positions=Positions.at(out.check_position))]
    )[0, -1, target]
    assert out.actual_change == pytest.approx(float(ablated) - out.logit, rel=1e-4, abs=1e-6)
    assert out.predicted_change == -float(out.scores[out.check_position, out.check_feature])
    assert abs(out.predicted_change) == float(out.scores.abs().max()) and out.check_agrees
    signs = set()
    for word in (" dog", " cat", " the", ".", " and", " happy", " ran", " big"):
        other = attribute(lm, sae, prompt, target=ids_of(lm, word)[0])
        # the largest |attribution| is the one checked
        assert abs(other.predicted_change) == float(other.scores.abs().max())
        signs.add(other.predicted_change > 0)
    assert signs == {True, False}  # ... whichever its sign


# ---- bad input ---------------------------------------------------------------------------------------------------


def test_bad_interventions_are_refused_with_the_field_named(lm: LanguageModel) -> None:
    sae = make_sae(lm, MID)
    with pytest.raises(InterventionError, match=r"feature: 16 does not exist \(the SAE has 16 features\)"):
        steer(lm, sae, ids_of(lm), [Intervention(16, "ablate")], 2)
    with pytest.raises(InterventionError, match="value: must be a finite number"):
        Intervention(1, "steer", math.inf)
    with pytest.raises(InterventionError, match="kind: 'boost' is not one of steer, clamp, scale, ablate"):
        Intervention(1, "boost")  # type: ignore[arg-type]
    with pytest.raises(
        InterventionError, match="positions: give a start position or chosen positions, not both"
    ):
        Positions(start=1, chosen=(2,))
    with pytest.raises(ValueError, match="position: must be between 0 and 8"):
        attribute(lm, sae, ids_of(lm), position=9)
    with pytest.raises(ValueError, match="max_new_tokens: must be at least 1"):
        steer(lm, sae, ids_of(lm), [], 0)


def test_the_ablation_check_reuses_the_clean_cache_exactly(lm: LanguageModel, target: int) -> None:
    """The check's forward from the ablated position on, after the clean prefix's cache, equals a full forward."""
    from shared.interventions.attribute import ablated_logit

    sae = make_sae(lm, MID, planted_token=target)
    ids = with_bos(lm, ids_of(lm))
    for first in (0, 3, ids.shape[1] - 2):
        check = Intervention(PLANTED, "ablate", positions=Positions.at(first))
        with torch.inference_mode():
            cache = lm.model(input_ids=ids, use_cache=True).cache
        got = ablated_logit(lm, sae, ids, check, first, True, cache, target)
        full = float(intervened_logits(lm, sae, ids, [check])[0, -1, target])
        assert got == pytest.approx(full, rel=1e-5, abs=1e-6)
        assert got != pytest.approx(float(lm.logits_with_replacement(ids, MID)[0, -1, target]), abs=1e-6)


# ---- the ablation check reruns only the blocks from the hook on --------------------------------------------------

CHECK_FAMILIES = ("gpt2", "llama", "gpt_neox", "mistral")  # mistral: a sliding-window cache, not cropped
CHECK_HOOKS = (
    "blocks.2.hook_resid_pre",
    "blocks.1.hook_resid_post",
    "blocks.2.hook_attn_out",
    "blocks.2.hook_mlp_out",
)


@pytest.fixture(scope="module")
def family_lms(
    lm: LanguageModel, tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, LanguageModel]:
    """The tiny GPT-2 and the tiny random models of ``support.tiny_lms`` (4 blocks of width 64, GPT-2 tokenizer)."""
    built = {"gpt2": lm}
    for family in CHECK_FAMILIES[1:]:
        built[family] = load_lm(str(save_tiny(family, tmp_path_factory.mktemp(family), tiny_gpt2_dir)))
    return built


@pytest.mark.parametrize("hook", CHECK_HOOKS)
@pytest.mark.parametrize("family", CHECK_FAMILIES)
def test_the_ablation_check_skips_the_blocks_before_the_hook_and_matches_the_full_rerun(
    family_lms: dict[str, LanguageModel], family: str, hook: str, target: int
) -> None:
    from shared.interventions.attribute import ablated_logit

    lm = family_lms[family]
    sae = make_sae(lm, hook)
    ids = with_bos(lm, ids_of(lm))
    skipped = BlockPrefix(lm, hook).count
    acts = sae.encode(lm.activations(ids, hook))[0]
    clean = float(lm.logits_with_replacement(ids, hook)[0, -1, target])
    changes: list[float] = []
    for first in (0, 3, ids.shape[1] - 2):
        feature = int(acts[first + 1].argmax())  # the strongest there: ablating it changes the logit
        check = Intervention(feature, "ablate", positions=Positions.at(first))
        got: dict[bool, float] = {}
        for skip in (False, True):
            prefix = BlockPrefix(lm, hook)
            with torch.inference_mode(), prefix.recording():
                cache = lm.model(input_ids=ids, use_cache=True).cache
            with computing_blocks(lm) as ran:
                got[skip] = ablated_logit(
                    lm, sae, ids, check, first, True, cache, target, prefix if skip else None
                )
            assert ran == list(range(skipped if skip else 0, lm.n_layers))
        full = float(intervened_logits(lm, sae, ids, [check])[0, -1, target])
        assert got[True] == pytest.approx(got[False], rel=1e-6, abs=1e-6)
        assert got[True] == pytest.approx(full, rel=1e-5, abs=1e-6)
        changes.append(abs(got[True] - clean))
    # the check mattered (the earlier positions may lie beyond mistral's sliding window of the last one)
    assert changes[-1] > 1e-5


def test_attribute_runs_the_check_from_the_hook_on_and_reports_what_the_full_rerun_gives(
    lm: LanguageModel, target: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per block, ``attribute`` computes the gradient forward once and the check from the hook's block on once more;
    the result is the one of a check that reruns every block."""
    attribution = importlib.import_module(
        "shared.interventions.attribute"
    )  # the package's name is the function

    sae = make_sae(lm, MID, planted_token=target)
    prompt = ids_of(lm)
    with computing_blocks(lm) as ran:
        out = attribute(lm, sae, prompt, target=target)
    assert Counter(ran) == {0: 1, 1: 2, 2: 2, 3: 2}  # MID is block 1's input

    class Rerun(BlockPrefix):
        @contextmanager
        def replaying(self, start: int) -> Iterator[bool]:
            yield False

    monkeypatch.setattr(attribution, "BlockPrefix", Rerun)
    with computing_blocks(lm) as ran:
        full = attribute(lm, sae, prompt, target=target)
    assert Counter(ran) == {0: 2, 1: 2, 2: 2, 3: 2}
    assert (out.check_position, out.check_feature) == (full.check_position, full.check_feature)
    assert torch.equal(out.scores, full.scores) and (out.logit, out.positive) == (full.logit, full.positive)
    assert out.actual_change == pytest.approx(full.actual_change, rel=1e-6, abs=1e-6)
    assert out.actual_change != 0


@pytest.mark.parametrize("family", ["gpt2", "gemma2", "opt", "phi"])
def test_the_checks_one_row_head_gives_the_full_heads_logit(
    lm: LanguageModel, tiny_gpt2_dir: Path, tmp_path: Path, family: str
) -> None:
    """The check computes only the target's row of the unembedding; what the model does after its head (Gemma 2's
    final-logit soft-capping; OPT's and Phi's biases and projections) still applies: the same logit as the full head."""
    from shared.interventions.attribute import _head_row

    (tmp_path / family).mkdir()
    model = lm if family == "gpt2" else load_lm(str(save_tiny(family, tmp_path / family, tiny_gpt2_dir)))
    ids = torch.tensor([[model.bos_token_id, 464, 3290, 318, 257]])
    with torch.inference_mode():
        full = model.model(input_ids=ids).logits[0, -1]
        for target in (0, 318, int(full.argmax()), full.shape[0] - 1):
            with _head_row(model, target) as column:
                one = model.model(input_ids=ids).logits
            assert one.shape[-1] == 1 and column == 0
            torch.testing.assert_close(one[0, -1, 0], full[target], rtol=1e-5, atol=1e-6)
    assert "forward" not in vars(model.model.get_output_embeddings())  # the head is whole again


@pytest.mark.parametrize("family", ["gpt2", "gemma2", "opt", "phi"])
def test_the_attributions_gradient_through_the_targets_head_row_is_the_full_heads(
    lm: LanguageModel, tiny_gpt2_dir: Path, tmp_path: Path, family: str
) -> None:
    """The gradient pass enters through the target's row of the unembedding when the model adds nothing after its
    head (GPT-2's tied head, OPT, Phi's biased head); through the model's own logits when it does (Gemma 2's
    soft-capping): the attributions equal those of the gradient of the full logits, for several targets."""
    from shared.interventions.attribute import attribution_scores, feature_gradient_times_activation

    (tmp_path / family).mkdir()
    model = lm if family == "gpt2" else load_lm(str(save_tiny(family, tmp_path / family, tiny_gpt2_dir)))
    sae = make_sae(model, MID)
    ids = with_bos(model, ids_of(model))
    held: dict[str, torch.Tensor] = {}

    def leaf(x: torch.Tensor) -> torch.Tensor:
        held["x"] = x.detach().requires_grad_(True)
        return held["x"]

    for target in (None, 318, 464):
        f, scores, logits, _ = attribution_scores(model, sae, ids, ids.shape[1] - 1, target)
        with torch.enable_grad(), model.patching(MID, leaf):
            full = model.model(input_ids=ids).logits[0, -1]
            wanted = int(full.argmax()) if target is None else target
            (grad,) = torch.autograd.grad(full[wanted], held["x"])
        torch.testing.assert_close(logits, full.detach(), rtol=1e-5, atol=1e-6)
        expected = feature_gradient_times_activation(sae, held["x"][0].detach(), grad[0], f)
        torch.testing.assert_close(scores, expected, rtol=1e-5, atol=1e-7)
        assert scores.abs().max() > 0, (family, target)

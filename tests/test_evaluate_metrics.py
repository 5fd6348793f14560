"""Error-rate metrics, the LFW pairs file and protocol, and the owner decision sweep (no TF)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceapp.errors import FaceappError
from faceapp.verification.rule import Thresholds, decide
from training.evaluation import lfw_pairs as pairs_protocol
from training.evaluation import metrics
from training.evaluation import owner as owner_eval

scored_pairs = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 20).map(lambda k: k / 20)), min_size=2, max_size=60
).filter(lambda rows: len({label for label, _ in rows}) == 2)


def brute_force_auc(labels, scores):
    """P(genuine score > impostor score) + half the ties: the AUC's definition."""
    genuine, impostor = scores[labels == 1], scores[labels == 0]
    wins = (genuine[:, None] > impostor[None, :]).sum() + 0.5 * (
        genuine[:, None] == impostor[None, :]
    ).sum()
    return wins / (genuine.size * impostor.size)


@settings(max_examples=60, deadline=None)
@given(scored_pairs)
def test_roc_points_match_their_thresholds_and_auc_matches_definition(rows):
    labels = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows])
    roc = metrics.roc_curve(labels, scores)
    assert roc.fpr[0] == roc.tpr[0] == 0 and roc.fpr[-1] == roc.tpr[-1] == 1
    for fpr, tpr, threshold in zip(roc.fpr, roc.tpr, roc.thresholds):
        rates = metrics.rates_at(labels, scores, threshold)
        assert rates["far"] == pytest.approx(fpr) and rates["recall"] == pytest.approx(tpr)
    assert metrics.roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores))
    threshold, accuracy = metrics.best_accuracy_threshold(labels, scores)
    assert metrics.rates_at(labels, scores, threshold)["accuracy"] == pytest.approx(accuracy)
    best_possible = max(metrics.rates_at(labels, scores, t)["accuracy"] for t in np.r_[-1, scores])
    assert accuracy == pytest.approx(best_possible)


def test_perfect_and_useless_scores():
    labels = np.array([1, 1, 1, 0, 0, 0])
    perfect = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    assert metrics.roc_auc(labels, perfect) == 1.0
    assert metrics.equal_error_rate(labels, perfect)[0] == 0.0
    threshold, tar, far = metrics.threshold_at_far(labels, perfect, 0.01)
    assert (tar, far) == (1.0, 0.0) and 0.3 < threshold < 0.7
    assert metrics.roc_auc(labels, perfect[::-1]) == 0.0
    assert metrics.roc_auc(labels, np.full(6, 0.5)) == 0.5


def test_threshold_at_far_never_exceeds_target():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(500), np.zeros(500)].astype(int)
    scores = np.r_[rng.normal(0.7, 0.1, 500), rng.normal(0.4, 0.1, 500)]
    for target in (0.1, 0.01, 0.001):
        threshold, tar, far = metrics.threshold_at_far(labels, scores, target)
        assert far <= target
        assert metrics.rates_at(labels, scores, threshold)["recall"] == pytest.approx(tar)
    eer, threshold = metrics.equal_error_rate(labels, scores)
    rates = metrics.rates_at(labels, scores, threshold)
    assert abs(rates["far"] - rates["frr"]) < 0.01 and 0.03 < eer < 0.10  # Phi(-1.5) = 0.067
    summary = metrics.summary(labels, scores)
    assert summary["roc_auc"] > 0.95 and summary["at_threshold"]["precision"] > 0.5


def test_metrics_need_both_kinds_of_pairs():
    with pytest.raises(FaceappError, match="both genuine"):
        metrics.roc_curve([1, 1], [0.2, 0.3])


def write_pairs(path, folds=2, n=2):
    lines = [f"{folds}\t{n}"]
    for fold in range(folds):
        lines += [f"Same_{fold}_{k}\t1\t2" for k in range(n)]
        lines += [f"A_{fold}_{k}\t1\tB_{fold}_{k}\t3" for k in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_pairs_file_folds_and_limit(tmp_path):
    path = write_pairs(tmp_path / "pairs.txt", folds=3, n=4)
    pairs = pairs_protocol.read_pairs_file(path)
    assert len(pairs) == 24 and [p.same for p in pairs[:8]] == [1] * 4 + [0] * 4
    chosen = pairs_protocol.read_pairs_file(path, folds=[2, 3], limit=1)
    assert [(p.fold, p.same) for p in chosen] == [(2, 1), (2, 0), (3, 1), (3, 0)]
    a, b = chosen[1].paths(tmp_path)
    assert a == tmp_path / "A_1_0" / "A_1_0_0001.jpg" and b.name == "B_1_0_0003.jpg"
    assert pairs_protocol.parse_folds("1-3,7") == [1, 2, 3, 7]
    assert pairs_protocol.parse_folds("all") is None


def test_bad_pairs_files_name_the_line(tmp_path):
    path = write_pairs(tmp_path / "pairs.txt")
    text = path.read_text().splitlines()
    text[3] = "only-one-field"
    path.write_text("\n".join(text))
    with pytest.raises(FaceappError, match=r"pairs.txt:4: not a pair line"):
        pairs_protocol.read_pairs_file(path)
    path.write_text("2\t300\nA\t1\t2\n")
    with pytest.raises(FaceappError, match="header promises 2 folds"):
        pairs_protocol.read_pairs_file(path)
    with pytest.raises(FaceappError, match="no fold 9"):
        pairs_protocol.read_pairs_file(write_pairs(tmp_path / "p2.txt"), folds=[9])


def test_real_lfw_pairs_file(lfw):
    pairs = pairs_protocol.read_pairs_file(lfw / "pairs.txt")
    assert len(pairs) == 4800 and sum(p.same for p in pairs) == 2400
    for pair in pairs[:50] + pairs[-50:]:
        assert all(path.is_file() for path in pair.paths(lfw))
    view1 = pairs_protocol.read_pairs_file(lfw / "pairsDevTest.txt")
    assert {p.fold for p in view1} == {1}


def test_cross_fold_thresholds_come_from_other_folds():
    # fold 1 separates at 0.5, fold 2 at 0.2: each fold gets the other's threshold
    folds = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    labels = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    scores = np.array([0.6, 0.7, 0.4, 0.1, 0.3, 0.25, 0.1, 0.15])
    rows = pairs_protocol.cross_fold(folds, labels, scores)
    assert 0.15 < rows[0]["threshold"] < 0.25 and rows[0]["accuracy"] == 0.75
    assert 0.4 < rows[1]["threshold"] < 0.6 and rows[1]["accuracy"] == 0.5
    report = pairs_protocol.protocol_report(folds, labels, scores)
    assert report["mean_accuracy"] == pytest.approx(0.625)
    assert report["std_accuracy"] == pytest.approx(0.125)


def test_owner_sweep_follows_the_apps_decision_rule():
    rng = np.random.default_rng(1)
    scores = np.r_[rng.uniform(0.4, 1.0, (20, 10)), rng.uniform(0.0, 0.6, (30, 10))]
    labels = np.r_[np.ones(20), np.zeros(30)].astype(int)
    rows = owner_eval.sweep(scores, labels, verification=0.5)
    for row in rows[::7]:
        thresholds = Thresholds(detection=row["detection_threshold"], verification=0.5)
        assert owner_eval.decision_rates(scores, labels, thresholds) == row
        verified = [decide(s, thresholds).verified for s in scores]
        assert row["far"] == pytest.approx(np.mean(np.array(verified)[labels == 0]))
    assert rows[0]["frr"] == 0.0 and rows[-1]["far"] == 0.0
    best = owner_eval.best_detection_threshold(rows, 0.01)
    assert best["far"] <= 0.01 and best["frr"] == min(r["frr"] for r in rows if r["far"] <= 0.01)


def test_owner_scenario_choices(lfw):
    scenario = owner_eval.build_scenario(lfw, "Tony_Blair", enroll=20, impostors=30, seed=0)
    assert len(scenario.verification) == 20 and len(scenario.genuine) == 144 - 20
    assert not set(scenario.verification) & set(scenario.genuine)
    assert len(scenario.impostors) == 30
    assert len({p.parent.name for p in scenario.impostors}) == 30
    assert "Tony_Blair" not in {p.parent.name for p in scenario.impostors}
    with pytest.raises(FaceappError, match="need more than --enroll"):
        owner_eval.build_scenario(lfw, "Tony_Blair", enroll=144)


def test_owner_run_negatives_count_as_seen_people(tmp_path, capsys):
    """An owner model trained with LFW people as negatives: scoring them warns."""
    from training.evaluate import warn_if_seen

    tree = tmp_path / "lfw"
    for person in ("Anna", "Bert", "Cleo"):
        (tree / person).mkdir(parents=True)
    negative = tmp_path / "root" / "negative"
    negative.mkdir(parents=True)
    (negative / "Anna_0001.jpg").write_bytes(b"\xff\xd8 not decoded here \xff\xd9")
    metadata = {"training": {"source": "owner", "tree": None, "data_root": str(tmp_path / "root")}}
    assert warn_if_seen(metadata, tree, {"Anna", "Bert"}) == 1
    assert "Anna" in capsys.readouterr().err


def test_binary_pairs_file_is_a_one_line_error(tmp_path):
    from faceapp.errors import FaceappError
    from training.evaluation.lfw_pairs import read_pairs_file

    binary = tmp_path / "lfw.tgz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe\x80\x81 not text")
    with pytest.raises(FaceappError, match="cannot read pairs file .*lfw.tgz"):
        read_pairs_file(binary)

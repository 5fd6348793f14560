"""A run's history survives a kill in the middle of appending a row."""

from __future__ import annotations

from training.pairs.checkpoints import RunFolder

HISTORY = "epoch,accuracy,loss\n0,0.5,0.69\n1,0.6,0.6\n2,0.7,0.5\n"


def test_trim_and_read_skip_a_row_cut_by_a_kill(tmp_path):
    run = RunFolder(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    run.history_path.write_text(HISTORY + "3,0.7")  # the kill cut the last row short
    assert run.read_history() == {
        "epoch": [0.0, 1.0, 2.0],
        "accuracy": [0.5, 0.6, 0.7],
        "loss": [0.69, 0.6, 0.5],
    }
    run.trim_history(2)  # the checkpoint has epochs 0 and 1
    assert run.history_path.read_text() == "epoch,accuracy,loss\n0,0.5,0.69\n1,0.6,0.6\n"


def test_cut_inside_a_number_or_an_empty_history(tmp_path):
    run = RunFolder(tmp_path)
    run.history_path.write_text(HISTORY + "3,0.7,0.")  # "0." of "0.43" parses, but is cut
    assert run.read_history()["loss"] == [0.69, 0.6, 0.5]
    run.trim_history(5)
    assert run.history_path.read_text() == HISTORY
    run.history_path.write_text(HISTORY + "3,0.7,0.4\x00\x00")
    assert run.read_history()["epoch"] == [0.0, 1.0, 2.0]
    run.history_path.write_text("")
    assert run.read_history() == {}
    run.trim_history(1)


def test_a_history_cut_inside_its_header_is_started_afresh(tmp_path):
    run = RunFolder(tmp_path)
    run.history_path.write_text("epoch,accur")  # a power cut while the header was written
    run.trim_history(3)
    assert run.history_path.read_text() == "" and run.read_history() == {}

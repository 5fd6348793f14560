"""training.ship's own rules: what of the training machine stays out of the shipped files."""

from training.ship import portable_command, shipped_metadata


def test_the_shipped_command_keeps_the_recipe_and_drops_the_machines_folders():
    command = (
        "python -m training.recipes identity-pretrain --tree ../shared/data/lfw --epochs 40 "
        "--data-root /home/me/runs --output=/home/me/runs/A1.keras --crop aligned"
    )

    assert portable_command(command) == (
        "python -m training.recipes identity-pretrain --tree ../shared/data/lfw --epochs 40 "
        "--crop aligned"
    )
    assert portable_command(None) is None


def test_shipped_metadata_names_the_int8_file_and_reduces_absolute_paths_to_names():
    values = {
        "name": "A1",
        "int8": {"file": "A1.int8.tflite", "bytes": 10},
        "training": {
            "data_root": "/home/me/runs",
            "tree": "/home/me/shared/data/lfw",
            "epochs": 40,
            "command": "python -m training.run --output /home/me/m.keras",
        },
    }

    shipped = shipped_metadata(values, "faceapp-x", "faceapp-x.int8.tflite", {"pairs": 1})

    assert shipped["name"] == "faceapp-x"
    assert shipped["int8"] == {"file": "faceapp-x.int8.tflite", "bytes": 10}
    assert shipped["training"] == {
        "tree": "lfw",
        "epochs": 40,
        "command": "python -m training.run",
    }
    assert shipped["shipped"]["evaluation"] == {"pairs": 1}
    assert values["name"] == "A1"  # the model's own metadata is left as it was

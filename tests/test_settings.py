"""Settings come from the environment; a bad value stops the notebook with a message that says how to fix it."""

import pytest

from notebook_access import load_definitions


@pytest.mark.parametrize("variable", ["AUTOENCODERS_QUICK", "AUTOENCODERS_RETRAIN"])
@pytest.mark.parametrize("value", ["maybe", "2", "ture", "on please"])
def test_a_bad_flag_names_the_variable_the_value_and_what_is_allowed(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as error:
        load_definitions()
    message = str(error.value)
    assert variable in message and repr(value) in message and "use 1 (on) or 0 (off)" in message


@pytest.mark.parametrize(("value", "mode", "epochs"), [("1", "quick", 2), ("true", "quick", 2), ("0", "full", 30),
                                                       ("", "full", 30)])
def test_the_run_mode_selects_the_epochs_and_images(monkeypatch, value, mode, epochs):
    monkeypatch.setenv("AUTOENCODERS_QUICK", value)
    notebook = load_definitions()
    assert (notebook["MODE"], notebook["EPOCHS"]) == (mode, epochs)
    assert (notebook["TRAIN_SIZE"], notebook["TEST_SIZE"]) == ((None, None) if mode == "full" else (4096, 1000))


def test_full_mode_uses_the_original_recipe(monkeypatch):
    monkeypatch.setenv("AUTOENCODERS_QUICK", "0")
    notebook = load_definitions()
    recipe = notebook["ORIGINAL_RECIPE"]
    assert (recipe.epochs, recipe.batch_size, recipe.learning_rate, recipe.schedule) == (30, 64, 1e-3, "constant")


@pytest.mark.parametrize("variable", ["AUTOENCODERS_RESULTS_DIR", "AUTOENCODERS_DATA_DIR", "AUTOENCODERS_CHECKPOINT_DIR"])
def test_a_directory_setting_that_names_a_file_is_refused(monkeypatch, tmp_path, variable):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    monkeypatch.setenv(variable, str(a_file))
    with pytest.raises(ValueError, match=f"{variable}=.*is a file, not a directory"):
        load_definitions()


@pytest.mark.parametrize("variable", ["AUTOENCODERS_RESULTS_DIR", "AUTOENCODERS_DATA_DIR", "AUTOENCODERS_CHECKPOINT_DIR"])
def test_an_empty_directory_setting_is_refused(monkeypatch, variable):
    monkeypatch.setenv(variable, " ")
    with pytest.raises(ValueError, match=f"{variable} is set but empty"):
        load_definitions()


@pytest.mark.parametrize("value", ["-1", "1.5", "one", "0x10", "4294967296", "٣"])
def test_a_bad_seed_names_the_variable_the_value_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv("AUTOENCODERS_SEED", value)
    with pytest.raises(ValueError) as error:
        load_definitions()
    message = str(error.value)
    assert "AUTOENCODERS_SEED" in message and repr(value) in message and "whole number from 0 to" in message


@pytest.mark.parametrize(("value", "seed"), [("", 0), ("0", 0), ("7", 7), (" 12 ", 12), ("4294967295", 2**32 - 1)])
def test_the_seed_setting_is_read_as_a_whole_number(monkeypatch, value, seed):
    monkeypatch.setenv("AUTOENCODERS_SEED", value)
    assert load_definitions()["SEED"] == seed

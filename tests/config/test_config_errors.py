"""The experiment file: every problem reported at once, with its path and a suggestion."""

from __future__ import annotations

import copy

import pytest

import lamina
from lamina.config.loader import apply_overrides, load_experiment, parse_experiment, to_toml
from lamina.errors import ConfigError

VALID = {
    "data": {"name": "digits", "validation": 0.1},
    "model": {
        "layers": [
            {"type": "flatten"},
            {"type": "dense", "units": 16, "activation": "relu"},
            {"type": "dropout", "p": 0.2},
            {"type": "dense", "units": 10},
        ]
    },
    "train": {"epochs": 2, "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}},
}


def problems(raw, overrides=()):
    with pytest.raises(ConfigError) as info:
        parse_experiment(copy.deepcopy(raw), overrides=overrides)
    return {p.path: p.message for p in info.value.problems}, str(info.value)


def test_valid_config_parses_and_round_trips_through_toml(tmp_path):
    exp = parse_experiment(copy.deepcopy(VALID))
    assert exp.model.layers[1].units == 16 and exp.train.optimizer.momentum == 0.9
    path = tmp_path / "resolved.toml"
    path.write_text(to_toml(exp))
    again = load_experiment(path)
    assert again.model_dump() == exp.model_dump() | {"name": "resolved"}


def test_every_problem_is_reported_with_its_path():
    raw = copy.deepcopy(VALID)
    raw["model"]["layers"][2]["p"] = 1.5
    raw["model"]["layers"][1]["units"] = "ten"
    raw["train"]["epocs"] = 3
    raw["train"]["batch_size"] = 0
    found, text = problems(raw)
    assert found["model.layers[2].p"] == "expected a number in [0, 1), got 1.5"
    assert found["model.layers[1].units"] == "expected an integer >= 1, got 'ten'"
    assert found["train.epocs"].startswith("unknown key 'epocs'; did you mean 'epochs'?")
    assert found["train.batch_size"] == "expected an integer >= 1, got 0"
    assert text.startswith("4 problems:")


@pytest.mark.parametrize(
    "path, value, where, suggestion",
    [
        (("model", "layers", 1, "type"), "dens", "model.layers[1]", "'dense'"),
        (("train", "optimizer", "type"), "adma", "train.optimizer", "'adam'"),
        (("train", "loss"), "cross_entropi", "train.loss", "'cross_entropy'"),
        (("data", "name"), "mnsit", "data", "'mnist'"),
        (("model", "layers", 1, "activation"), "rleu", "model.layers[1].activation", "'relu'"),
    ],
)
def test_misspelt_names_get_a_did_you_mean(path, value, where, suggestion):
    raw = copy.deepcopy(VALID)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    found, _ = problems(raw)
    assert f"did you mean {suggestion}?" in found[where]
    assert repr(value) in found[where]


def test_missing_required_option_and_section():
    raw = copy.deepcopy(VALID)
    del raw["model"]["layers"][1]["units"]
    del raw["data"]
    found, _ = problems(raw)
    assert found["model.layers[1].units"] == "required, but missing"
    assert found["data"] == "required, but missing"


def test_wrong_types_are_not_coerced():
    raw = copy.deepcopy(VALID)
    raw["train"]["epochs"] = "5"
    raw["train"]["compile"] = "yes"
    raw["train"]["optimizer"]["nesterov"] = 1
    found, _ = problems(raw)
    assert found["train.epochs"] == "expected an integer >= 1, got '5'"
    assert found["train.compile"] == "expected true or false, got 'yes'"
    assert found["train.optimizer.nesterov"] == "expected true or false, got 1"


def test_choice_fields_list_the_options():
    raw = copy.deepcopy(VALID)
    raw["train"]["precision"] = "fp8"
    raw["data"]["scale"] = "unti"
    found, _ = problems(raw)
    assert found["train.precision"] == "expected one of 'fp32', 'bf16', 'fp16', got 'fp8'"
    assert "did you mean 'unit'?" in found["data.scale"]


def test_cross_argument_rule_names_both():
    raw = copy.deepcopy(VALID)
    raw["train"]["optimizer"] = {"type": "sgd", "nesterov": True}
    found, _ = problems(raw)
    assert "momentum" in found["train.optimizer.nesterov"] and "Nesterov" in found["train.optimizer.nesterov"]


def test_dag_wiring_errors():
    raw = copy.deepcopy(VALID)
    raw["model"] = {
        "inputs": ["image"],
        "outputs": ["head", "nope"],
        "nodes": [
            {"name": "flat", "type": "flatten", "inputs": ["imgae"]},
            {"name": "h", "type": "dense", "units": 4, "inputs": ["flat", "image"]},
            {"name": "head", "type": "concat", "inputs": ["h"]},
            {"name": "h", "type": "dense", "units": 3},
        ],
    }
    found, _ = problems(raw)
    assert "'imgae' is not an input or node; did you mean 'image'?" in found["model.nodes[0].inputs"]
    assert "takes one input, got 2" in found["model.nodes[1].inputs"]
    assert "joins two or more inputs" in found["model.nodes[2].inputs"]
    assert found["model.nodes[3].name"] == "name 'h' is used twice"
    assert found["model.outputs[1]"].startswith("'nope' is not a node")


def test_dag_cycle_is_an_error():
    raw = copy.deepcopy(VALID)
    raw["model"] = {
        "nodes": [
            {"name": "a", "type": "add", "inputs": ["input", "b"]},
            {"name": "b", "type": "dense", "units": 4, "inputs": ["a"]},
        ]
    }
    found, _ = problems(raw)
    assert "cycle" in found["model.nodes"]


def test_stack_and_nodes_together_is_an_error():
    raw = copy.deepcopy(VALID)
    raw["model"]["nodes"] = [{"name": "x", "type": "flatten"}]
    found, _ = problems(raw)
    assert "not both" in found["model"]


def test_malformed_toml_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[data]\nname = "digits"\n[train\nepochs = 3\n')
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "line 3" in str(info.value) and "column" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_experiment(tmp_path / "nope.toml")


def test_overrides_set_values_and_expand_named_components():
    raw = copy.deepcopy(VALID)
    raw["train"]["optimizer"] = "adam"
    exp = parse_experiment(
        raw,
        overrides=[
            "train.epochs=7",
            "train.optimizer.lr=0.01",
            "model.layers[2].p=0.4",
            "data.name=digits",
            'train.schedule={ type = "step", step_size = 2 }',
        ],
    )
    assert exp.train.epochs == 7 and exp.train.optimizer.type_name == "adam" and exp.train.optimizer.lr == 0.01
    assert exp.model.layers[2].p == 0.4 and exp.train.schedule.step_size == 2


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.epochs", "expected KEY=VALUE"),
        ("=3", "expected KEY=VALUE"),
        ("model.layers[9].p=0.1", "out of range"),
        ("train.epochs.x=1", "cannot set a key inside a int"),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(copy.deepcopy(VALID), [override])


def test_override_of_unknown_key_is_reported_like_a_file_key():
    found, _ = problems(VALID, overrides=["train.epocs=3"])
    assert "did you mean 'epochs'?" in found["train.epocs"]


def test_config_never_executes_code(tmp_path):
    # strings that look like code stay strings and fail validation as names
    raw = copy.deepcopy(VALID)
    raw["train"]["loss"] = "__import__('os').system('touch pwned')"
    found, _ = problems(raw)
    assert "unknown loss" in found["train.loss"]
    assert not (tmp_path / "pwned").exists()


def test_resolve_from_python_uses_the_same_messages():
    with pytest.raises(ConfigError, match=r"train.optimizer.lr: expected a number > 0, got -1"):
        lamina.resolve("optimizer", {"type": "sgd", "lr": -1}, path="train.optimizer")


def test_every_section_round_trips_including_direct_spec_fields(tmp_path):
    raw = copy.deepcopy(VALID)
    raw["train"]["early_stopping"] = {"monitor": "val_accuracy", "patience": 3}
    raw["train"]["schedule"] = {"type": "cosine", "warmup_steps": 10}
    raw["train"]["metrics"] = ["accuracy", {"type": "top_k_accuracy", "k": 3}]
    exp = parse_experiment(raw)
    path = tmp_path / "again.toml"
    path.write_text(to_toml(exp))
    assert load_experiment(path).model_dump() == exp.model_dump() | {"name": "again"}
    wrong = copy.deepcopy(raw)
    wrong["train"]["early_stopping"]["type"] = "something_else"
    found, _ = problems(wrong)
    assert "unknown key 'type'" in found["train.early_stopping.type"]

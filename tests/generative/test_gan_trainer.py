"""The GAN trainer (issue #27): the order of the alternating steps, each network's step leaving the other's
parameters alone, and a run killed after a checkpoint and resumed ending bit for bit where an uninterrupted run ends
(CPU)."""

from __future__ import annotations

import pytest
import torch

from lamina.data import ArrayDataset
from lamina.errors import CheckpointError, ConfigError, ShapeError
from lamina.generative.adversarial import GANTrainer, build_gan
from lamina.generative.adversarial.config import Budget, load_gan_experiment, train_gan
from lamina.train.callbacks.base import Callback
from lamina.train.rng import seeded

SHAPE = (1, 4, 4)
GENERATOR = [
    {"type": "dense", "units": 16},
    {"type": "batchnorm"},  # running statistics: buffers the checkpoint must carry
    {"type": "relu"},
    {"type": "dense", "units": 16, "activation": "sigmoid"},
    {"type": "reshape", "shape": [1, 4, 4]},
]
DISCRIMINATOR = [
    {"type": "flatten"},
    {"type": "dense", "units": 8, "activation": "leaky_relu"},
    {"type": "dense", "units": 1},
]


def _gan(seed: int = 0):
    with seeded(seed):
        return build_gan(GENERATOR, DISCRIMINATOR, latent_dim=3, image_shape=SHAPE)


def _data(n: int = 40) -> ArrayDataset:
    g = torch.Generator().manual_seed(1)
    return ArrayDataset(torch.rand(n, *SHAPE, generator=g), torch.zeros(n, dtype=torch.long))


def _trainer(gan, **options) -> GANTrainer:
    defaults = {"epochs": 2, "batch_size": 8, "device": "cpu", "seed": 5}
    return GANTrainer(gan, **{**defaults, **options})


class _Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[str] = []


def test_the_discriminator_takes_n_critic_steps_per_generator_step():
    gan = _gan()
    trainer = _trainer(gan, n_critic=3, loss="wasserstein_gp", epochs=1)
    order: list[str] = []
    d_step, g_step = trainer.discriminator_step, trainer.generator_step
    trainer.discriminator_step = lambda real: (order.append("D"), d_step(real))[1]
    trainer.generator_step = lambda n: (order.append("G"), g_step(n))[1]
    trainer.fit(_data(48))  # 6 batches of 8
    assert "".join(order) == "DDDGDDDG"
    assert (trainer.step, trainer.generator_steps) == (6, 2)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


@pytest.mark.parametrize("loss", ["non_saturating", "minimax", "wasserstein_gp"])
def test_each_step_changes_only_its_own_network(loss):
    gan = _gan()
    trainer = _trainer(gan, loss=loss)
    trainer._sums = {k: torch.zeros(()) for k in ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")}
    real = _data(8).inputs[0]
    g0, d0 = _snapshot(gan.generator), _snapshot(gan.discriminator)
    trainer.discriminator_step(real)
    assert all(torch.equal(v, _snapshot(gan.generator)[k]) for k, v in g0.items())
    assert all(p.grad is None for p in gan.generator.parameters())
    d1 = _snapshot(gan.discriminator)
    assert any(not torch.equal(v, d1[k]) for k, v in d0.items())
    trainer.generator_step(8)
    assert all(torch.equal(v, _snapshot(gan.discriminator)[k]) for k, v in d1.items())
    assert any(not torch.equal(v, _snapshot(gan.generator)[k]) for k, v in g0.items())
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # unfrozen after the step


class _Kill(Callback):
    """Raise after ``at`` discriminator steps, as a killed process would stop (after its last checkpoint)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_batch_end(self, trainer, step, loss) -> None:
        if step == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize(("loss", "n_critic", "kill_at"), [("non_saturating", 1, 7), ("wasserstein_gp", 2, 4)])
def test_resume_after_a_kill_gives_the_uninterrupted_parameters_bit_for_bit(tmp_path, loss, n_critic, kill_at):
    data = _data(40)  # 5 batches of 8 per epoch, 3 epochs
    reference = _trainer(_gan(), loss=loss, n_critic=n_critic, epochs=3)
    reference.fit(data)

    checkpoint = tmp_path / "checkpoint.pt"
    killed = _trainer(_gan(), loss=loss, n_critic=n_critic, epochs=3, callbacks=[_Kill(kill_at)])
    with pytest.raises(KeyboardInterrupt):
        killed.fit(data, checkpoint=checkpoint, checkpoint_every_steps=3)  # kept: step 3 (mid-epoch) or 6

    resumed = _trainer(_gan(seed=99), loss=loss, n_critic=n_critic, epochs=3)  # other initial weights: all restored
    resumed.resume(checkpoint)
    assert resumed.step in (3, 6) and resumed.step < kill_at + 1
    resumed.fit(data, checkpoint=checkpoint)
    final, expected = resumed.gan.state_dict(), reference.gan.state_dict()
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[k], expected[k]) for k in expected), "resumed parameters differ"
    assert (resumed.step, resumed.generator_steps, resumed.epoch) == (reference.step, reference.generator_steps, 3)
    assert [e["d_loss"] for e in resumed.history] == [e["d_loss"] for e in reference.history]


def test_a_budget_stops_inside_an_epoch_and_the_run_resumes_from_there(tmp_path):
    data = _data(40)
    reference = _trainer(_gan(), epochs=2)
    reference.fit(data)
    stopped = _trainer(_gan(), epochs=2, callbacks=[Budget(0.0)])  # stops after the first step
    stopped.fit(data, checkpoint=tmp_path / "c.pt")
    assert (stopped.step, stopped.epoch) == (1, 0)
    resumed = _trainer(_gan(seed=3), epochs=2)
    resumed.resume(tmp_path / "c.pt")
    resumed.fit(data)
    assert all(torch.equal(v, reference.gan.state_dict()[k]) for k, v in resumed.gan.state_dict().items())


def test_training_does_not_touch_the_callers_random_state():
    before = torch.get_rng_state()
    _trainer(_gan(), epochs=1).fit(_data(16))
    assert torch.equal(before, torch.get_rng_state())


def test_options_are_validated_with_the_experiment_files_wording():
    with pytest.raises(ValueError, match="n_critic"):
        GANTrainer(_gan(), n_critic=0, device="cpu")
    with pytest.raises(ValueError, match="loss"):
        GANTrainer(_gan(), loss="hinge", device="cpu")


def test_a_foreign_or_mismatched_checkpoint_is_refused(tmp_path):
    trainer = _trainer(_gan(), epochs=1)
    trainer.fit(_data(16), checkpoint=tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="loss 'non_saturating'"):
        _trainer(_gan(), loss="wasserstein_gp").resume(tmp_path / "c.pt")
    (tmp_path / "bad.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupted"):
        trainer.resume(tmp_path / "bad.pt")


def test_build_gan_names_the_network_whose_shape_is_wrong():
    with pytest.raises(ShapeError, match=r"gan.generator: must map latent vectors \(3,\) to examples of shape"):
        build_gan(GENERATOR[:-1], DISCRIMINATOR, latent_dim=3, image_shape=SHAPE)
    with pytest.raises(ShapeError, match=r"gan.discriminator: must give one score per example"):
        build_gan(GENERATOR, DISCRIMINATOR[:-1], latent_dim=3, image_shape=SHAPE)


def _experiment(**train) -> dict:
    return {
        "name": "tiny",
        "data": {"name": "digits", "train_subset": 64},
        "gan": {
            "latent_dim": 4,
            "generator": GENERATOR[:3]
            + [{"type": "dense", "units": 64, "activation": "sigmoid"}, {"type": "reshape", "shape": [1, 8, 8]}],
            "discriminator": DISCRIMINATOR,
        },
        "train": {"epochs": 2, "batch_size": 16, **train},
    }


def test_an_experiment_file_trains_and_a_second_call_resumes_it(tmp_path):
    first = train_gan(_experiment(epochs=1), tmp_path, device="cpu", verbose=0)
    assert first.epoch == 1 and (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "history.json").is_file()
    second = train_gan(_experiment(epochs=2), tmp_path, device="cpu", verbose=0)
    assert second.epoch == 2 and len(second.history) == 2
    straight = train_gan(_experiment(epochs=2), tmp_path / "other", device="cpu", verbose=0)
    assert all(torch.equal(v, straight.gan.state_dict()[k]) for k, v in second.gan.state_dict().items())


def test_experiment_file_errors_name_the_field():
    with pytest.raises(ConfigError, match="train.n_critic"):
        load_gan_experiment(_experiment(n_critic=0))
    with pytest.raises(ConfigError, match="gan.generator"):
        load_gan_experiment({**_experiment(), "gan": {"generator": [{"type": "dense"}], "discriminator": []}})


def test_the_example_file_is_dcgan_layers():
    from pathlib import Path

    from lamina.generative.adversarial import dcgan_layers

    example = load_gan_experiment(Path(__file__).resolve().parents[2] / "examples" / "mnist_dcgan.toml")
    generator, discriminator = dcgan_layers((1, 28, 28), latent_dim=64, width=64)
    assert [layer.model_dump(exclude_none=True) for layer in example.gan.generator] == [
        load_gan_experiment({**_experiment(), "gan": {"generator": generator, "discriminator": discriminator}})
        .gan.generator[i]
        .model_dump(exclude_none=True)
        for i in range(len(generator))
    ]
    gan = build_gan(example.gan.generator, example.gan.discriminator, latent_dim=64, image_shape=(1, 28, 28))
    assert gan(torch.zeros(2, 64)).shape == (2, 1, 28, 28)
    assert gan.discriminator(torch.zeros(2, 1, 28, 28)).shape == (2, 1)


def test_the_non_saturating_game_reaches_the_data_distribution_in_one_dimension():
    # Goodfellow et al. (2014), proposition 2: at the game's optimum p_g = p_data. N(3, 0.5^2) is learnt from
    # N(0, I) noise by a 16-unit generator in 512 steps: mean and spread of its samples match the data's.
    g = torch.Generator().manual_seed(0)
    data = ArrayDataset(3 + 0.5 * torch.randn(4096, 1, generator=g), torch.zeros(4096, dtype=torch.long))
    with seeded(0):
        gan = build_gan(
            [{"type": "dense", "units": 16, "activation": "relu"}, {"type": "dense", "units": 1}],
            [{"type": "dense", "units": 32, "activation": "leaky_relu"}, {"type": "dense", "units": 1}],
            latent_dim=2,
            image_shape=(1,),
        )
    adam = {"type": "adam", "lr": 2e-3, "betas": [0.5, 0.999]}
    trainer = _trainer(gan, epochs=8, batch_size=64, generator_optimizer=adam, discriminator_optimizer=adam)
    trainer.fit(data)
    samples = gan.sample(4000, generator=torch.Generator().manual_seed(1))
    assert abs(samples.mean().item() - 3) < 0.2 and 0.35 < samples.std().item() < 0.65
    assert abs(trainer.history[-1]["d_real"] - 0.5) < 0.1  # D(x) -> 1/2 at the equilibrium


DIGITS_GAN = """
name = "digits_gan"
[data]
name = "digits"
[gan]
latent_dim = 4
generator = [{ type = "dense", units = 64, activation = "sigmoid" }, { type = "reshape", shape = [1, 8, 8] }]
discriminator = [{ type = "flatten" }, { type = "dense", units = 1 }]
"""


def test_lamina_draw_draws_both_networks_of_a_gan_file(tmp_path):
    from typer.testing import CliRunner

    from lamina.cli import app
    from lamina.generative.adversarial.config import gan_skeleton, is_gan_file

    config = tmp_path / "digits_gan.toml"
    config.write_text(DIGITS_GAN)
    assert is_gan_file(config)
    gan, name = gan_skeleton(config)
    assert name == "digits_gan" and sum(p.numel() for p in gan.generator.parameters()) == 4 * 64 + 64
    result = CliRunner().invoke(app, ["draw", str(config), "-o", str(tmp_path / "g.svg"), "--engine", "matplotlib"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g_generator.svg").is_file() and (tmp_path / "g_discriminator.svg").is_file()
    assert "320 parameters" in result.output and "65 parameters" in result.output


def test_lamina_train_points_a_gan_file_to_its_trainer(tmp_path):
    import lamina

    config = tmp_path / "digits_gan.toml"
    config.write_text(DIGITS_GAN)
    with pytest.raises(ConfigError, match=r"not a `lamina train` run: train it with .*train_gan"):
        lamina.load_experiment(config)


def test_the_wgan_gp_critic_estimates_the_wasserstein_distance_of_two_gaussians():
    # W1(N(m, I), N(0, I)) = |m| = 2. The generator is held at the identity (it never steps: n_critic is larger than
    # the run) so the critic alone learns f with E f(x) - E f(G(z)) -> W1 (Gulrajani et al., 2017). In two
    # dimensions: in one, a critic whose slope starts with the wrong sign must cross slope 0, where the penalty is
    # lambda, and stays in that local minimum.
    g = torch.Generator().manual_seed(0)
    shift = torch.tensor([1.2, -1.6])
    data = ArrayDataset(shift + torch.randn(4096, 2, generator=g), torch.zeros(4096, dtype=torch.long))
    with seeded(0):
        gan = build_gan(
            [{"type": "dense", "units": 2}],
            [{"type": "dense", "units": 32, "activation": "tanh"}, {"type": "dense", "units": 1}],
            latent_dim=2,
            image_shape=(2,),
        )
    with torch.no_grad():
        gan.generator[0].weight.copy_(torch.eye(2))
        gan.generator[0].bias.zero_()
    adam = {"type": "adam", "lr": 1e-2, "betas": [0.5, 0.9]}
    trainer = _trainer(
        gan, loss="wasserstein_gp", n_critic=10**6, epochs=4, batch_size=256, discriminator_optimizer=adam
    )
    trainer.fit(data)
    assert trainer.generator_steps == 0
    fresh = torch.Generator().manual_seed(7)
    with torch.no_grad():
        real = gan.discriminator(shift + torch.randn(20000, 2, generator=fresh)).mean()
        fake = gan.discriminator(gan.sample(20000, generator=fresh)).mean()
    assert 1.7 < (real - fake).item() < 2.3

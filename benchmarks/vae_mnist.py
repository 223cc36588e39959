"""A variational autoencoder (Kingma & Welling, 2014) on binarized MNIST, 20 latent units: the test ELBO and the
IWAE-5000 test log-likelihood estimate (Burda, Grosse & Salakhutdinov, 2016), in one table beside the RBMs' AIS
log-likelihoods that ``benchmarks/rbm_mnist_ll.py`` recorded on the same binary images (read from its JSON files).

    python -m benchmarks.vae_mnist --device cuda --budget-minutes 7 --out-dir DIR      # the GPU run
    nice -n 10 python -m benchmarks.vae_mnist --budget-minutes 12 --iwae-images 1000   # a CPU run (2 cores)
    python -m benchmarks.vae_mnist --smoke                                             # seconds, no figures kept
    python -m benchmarks.vae_mnist --write-page      # results/vae.md from the vae_mnist_*.json in results/

Binarization: ``scale = "binarize_stochastic"`` (each pixel 1 with probability equal to its intensity, drawn once
with seed 0, training images then test images), the bits ``rbm_mnist_ll.py`` draws. Target: test ELBO >= -105 nats.
Model: 784-500-500-20 encoder and 20-500-500-784 Bernoulli decoder, tanh units, Adam (lr 1e-3, batch 100) on all
60,000 training images for as many epochs as the budget allows (the time the final IWAE estimate needs, measured on
the untrained model first, is kept back). The JSON is rewritten after every epoch.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import torch

import lamina
from benchmarks.common import RESULTS, add_threads_option, command, limit_threads, machine
from lamina import jsonio
from lamina.data import ArrayDataset
from lamina.generative import VAE
from lamina.train import Callback, Trainer

TARGET_ELBO = -105.0
PUBLISHED = {  # Burda et al. (2016), table 1, MNIST (their stochastic binarization), one stochastic layer, k = 1
    "vae_1_layer_iwae_5000": -86.76,
    "note": "Burda et al. train 3,280 epochs (50 latent, 2x200 tanh units); not the same binary images",
}


def write_json(out_dir: Path, name: str, record: dict[str, Any]) -> Path:
    """``out_dir/<name>.json`` with the command, date and machine, rewritten atomically (``jsonio``: no bare NaN)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    full = {"benchmark": name, "command": command(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(jsonio.dumps({**full, **record}, indent=2) + "\n")
    tmp.replace(path)
    return path


def rbm_rows(results: Path = RESULTS) -> list[dict[str, Any]]:
    """The RBMs' AIS test log-likelihoods recorded by ``rbm_mnist_ll.py`` on the stochastic binarization, one row a
    JSON file (``rbm_mnist_ll_<model>[_suffix].json``; the AIS check on a 20-unit RBM is left out)."""
    rows = []
    for path in sorted(results.glob("rbm_mnist_ll_*.json")):
        record = jsonio.loads(path.read_text())
        if "test_log_likelihood" not in record or record.get("binarize") != "stochastic":
            continue
        model = path.stem.removeprefix("rbm_mnist_ll_")
        rows.append(
            {
                "model": f"RBM 784-500, {model}",
                "source": path.name,
                "test_log_likelihood": record["test_log_likelihood"],
                "kind": f"AIS, {record.get('betas', '?')} temperatures (estimate of log p)",
                "training": f"{record.get('epochs', '?')} epochs, trained on {record.get('train_on', 'binarized')}",
                "published": record.get("published"),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The one log-likelihood table, markdown, best first."""
    lines = [
        "| model | test log-likelihood (nats) | what | training | source |",
        "|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: -r["test_log_likelihood"]):
        lines.append(
            f"| {row['model']} | {row['test_log_likelihood']:.2f} | {row['kind']} | {row['training']} | "
            f"{row['source']} |"
        )
    return "\n".join(lines)


def vae_rows(record: dict[str, Any], source: str) -> list[dict[str, Any]]:
    """The table's rows for one VAE run: its IWAE estimate and its test ELBO."""
    model = record["model"]
    label = f"VAE 784-{'-'.join(map(str, model['hidden']))}-{model['latent']} (lamina, {record['device']})"
    epochs = record["steps"] * record["optimizer"]["batch_size"] / record["train_examples"]
    training = f"{epochs:.1f} epochs, {record['train_minutes']:.1f} min on {record['device']}"
    estimate = record["iwae"]
    subset = f", first {estimate['images']} test images" if estimate["images"] < 10_000 else ""
    return [
        {
            "model": label,
            "test_log_likelihood": estimate["test_log_likelihood"],
            "kind": f"IWAE-{estimate['k']} estimate of log p (+- {estimate['standard_error']:.2f} s.e.{subset})",
            "training": training,
            "source": source,
        },
        {
            "model": label,
            "test_log_likelihood": record["test"]["elbo"],
            "kind": "ELBO (a lower bound), one sample, all 10,000 test images",
            "training": training,
            "source": source,
        },
    ]


def plot_curve(record: dict[str, Any], path: Path) -> Path:
    """The training ELBO and the test ELBO after each epoch of one recorded run."""
    from lamina.report.plots import plt, save_figure

    epochs = record["epochs"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot([e["epoch"] for e in epochs], [-e["train_negative_elbo"] for e in epochs], label="training (running mean)")
    ax.plot([e["epoch"] for e in epochs], [e["test_elbo"] for e in epochs], label="test")
    ax.axhline(TARGET_ELBO, color="gray", linestyle="--", linewidth=1, label=f"target {TARGET_ELBO:g}")
    low = min(min(-e["train_negative_elbo"], e["test_elbo"]) for e in epochs[len(epochs) // 10 :])
    ax.set_ylim(max(low, -200) - 2, max(max(-e["train_negative_elbo"], e["test_elbo"]) for e in epochs) + 2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("ELBO (nats per image)")
    ax.legend()
    ax.set_title(f"VAE on binarized MNIST ({record['device']})")
    return save_figure(fig, path)


def write_page(results: Path = RESULTS) -> Path:
    """``results/vae.md``: each recorded run's figures and the one log-likelihood table, from the JSON files, and
    each run's ELBO curve (``<run>_curve.png``)."""
    runs = [
        (path.name, jsonio.loads(path.read_text()))
        for path in sorted(results.glob("vae_mnist_*.json"))
        if "smoke" not in path.stem
    ]
    runs = [(name, r) for name, r in runs if r.get("status") == "done"]
    rows = [row for name, r in runs for row in vae_rows(r, name)] + rbm_rows(results)
    lines = [
        "## Variational autoencoder on binarized MNIST (issue 27)",
        "",
        "Kingma & Welling's VAE (2014), 784-500-500-20 tanh encoder, 20-500-500-784 Bernoulli decoder, Adam (lr 1e-3,",
        "batch 100) on all 60,000 training images for as many epochs as the time budget allows; the test ELBO (one",
        "reparameterised sample per image, analytic KL) and the IWAE-5000 log-likelihood estimate (Burda, Grosse &",
        "Salakhutdinov, 2016). The binary images are the RBM benchmark's (each pixel on with probability equal to its",
        'intensity, drawn once with seed 0: `[data] scale = "binarize_stochastic"`), so the table below compares like',
        "with like. Target: test ELBO >= -105 nats. Written by `python -m benchmarks.vae_mnist --write-page` from the",
        "JSON files; the RBM rows are read from `rbm_mnist_ll_*.json`, not retyped.",
        "",
    ]
    for name, r in runs:
        if len(r["epochs"]) >= 2:
            plot_curve(r, results / f"{Path(name).stem}_curve.png")
        met = "met" if r["target_met"] else "**not met**"
        e = r["iwae"]
        lines += [
            f"### {r['device']}: `{r['command']}`",
            "",
            f"- {r['steps']} steps of batch {r['optimizer']['batch_size']} "
            f"({r['steps'] * r['optimizer']['batch_size'] / r['train_examples']:.1f} epochs) in "
            f"{r['train_minutes']:.1f} min ({r['stop_reason']}); machine: "
            f"{r['machine'].get('cuda') or str(r['machine'].get('cpus')) + ' CPUs'}, torch {r['machine']['torch']}.",
            f"- Test ELBO **{r['test']['elbo']:.2f}** nats (reconstruction {r['test']['reconstruction']:.2f}, KL "
            f"{r['test']['kl']:.2f}): target -105 {met}. Training -ELBO at the last epoch "
            f"{r['epochs'][-1]['train_negative_elbo']:.2f}.",
            f"- IWAE-{e['k']} on {e['images']} test images: **{e['test_log_likelihood']:.2f}** +- "
            f"{e['standard_error']:.2f} nats (ELBO on the same images {e['elbo_same_images']:.2f}; "
            f"{e['seconds']:.0f} s).",
            f"- Figures: `{Path(name).stem}_samples.png` (test images, reconstructions, samples from the prior), "
            f"`{Path(name).stem}_latent.png` (latent means of 5,000 test images, first two principal components)"
            + (f", `{Path(name).stem}_curve.png` (training and test ELBO by epoch)." if len(r["epochs"]) >= 2 else "."),
            *([f"- Note: {r['note']}"] if r.get("note") else []),
            "",
        ]
    lines += [
        "### One log-likelihood table: VAE and RBMs, the same binarized MNIST test set",
        "",
        "The AIS figures estimate log p(x) of an RBM (their error is that of the log-partition estimate); the IWAE",
        "figure is a stochastic lower bound on the VAE's log p(x) that tightens with k; the ELBO is a looser lower",
        "bound.",
        "",
        table(rows),
        "",
    ]
    path = results / "vae.md"
    path.write_text("\n".join(lines))
    return path


class Budget(Callback):
    """Stops training at the step that crosses ``deadline`` (the epoch in progress ends there); records each epoch's
    figures and rewrites the JSON."""

    def __init__(self, deadline: float, on_epoch: Any) -> None:
        self.deadline, self.on_epoch = deadline, on_epoch

    def on_batch_end(self, trainer, step, loss):
        if time.time() > self.deadline:
            trainer.stop_training, trainer.stop_reason = True, "time budget spent"

    def on_epoch_end(self, trainer, epoch, logs):
        self.on_epoch(epoch + 1, logs, trainer.step)
        if time.time() > self.deadline:
            trainer.stop_training, trainer.stop_reason = True, "time budget spent"


@torch.no_grad()
def test_elbo(vae: VAE, x: torch.Tensor, *, generator: torch.Generator, batch: int = 2000) -> dict[str, float]:
    """The mean single-sample ELBO, reconstruction term and KL over ``x``, in nats."""
    vae.eval()
    parts = [vae.elbo(x[i : i + batch], generator=generator) for i in range(0, len(x), batch)]
    vae.train()
    return {
        "elbo": float(torch.cat([p.elbo for p in parts]).double().mean()),
        "reconstruction": float(torch.cat([p.reconstruction for p in parts]).double().mean()),
        "kl": float(torch.cat([p.kl for p in parts]).double().mean()),
    }


def iwae(vae: VAE, x: torch.Tensor, k: int, *, seed: int, batch: int) -> tuple[torch.Tensor, float]:
    """The per-image IWAE-``k`` estimates of ``x`` and the seconds they took."""
    vae.eval()
    if x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    g = torch.Generator(device=x.device).manual_seed(seed)
    values = vae.log_likelihood(x, k, batch_size=batch, generator=g)
    if x.is_cuda:
        torch.cuda.synchronize()
    vae.train()
    return values.cpu(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda")
    parser.add_argument("--budget-minutes", type=float, default=12.0, help="wall-clock budget of the whole run")
    parser.add_argument("--epochs", type=int, default=1000, help="at most this many epochs (the budget decides)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON and figures go")
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--hidden", type=int, nargs="+", default=[500, 500])
    parser.add_argument("--activation", default="tanh", choices=("tanh", "relu", "softplus"))
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--k", type=int, default=5000, help="importance samples of the test estimate")
    parser.add_argument("--iwae-images", type=int, default=None, help="estimate on the first N test images only")
    parser.add_argument("--iwae-batch", type=int, default=None, help="test images per IWAE pass (default: by device)")
    parser.add_argument("--train-subset", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a tiny run in seconds: 1,000 images, 2 epochs, k = 50")
    parser.add_argument("--name", default=None, help="result name (default vae_mnist_<device>)")
    parser.add_argument("--write-page", action="store_true", help="only write results/vae.md from the JSON files")
    parser.add_argument("--note", default="", help="a remark kept in the JSON and shown on the results page")
    add_threads_option(parser)
    args = parser.parse_args()
    if args.write_page:
        print(f"written: {write_page()}")
        return
    limit_threads(args.threads)
    if args.smoke:
        args.train_subset, args.epochs, args.k, args.iwae_images = 1000, 2, 50, 200
        args.hidden, args.budget_minutes = [64], min(args.budget_minutes, 2.0)
    start = time.time()
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    name = args.name or ("vae_mnist_smoke" if args.smoke else f"vae_mnist_{device.type}")
    out_dir = Path(args.out_dir)

    splits = lamina.data.load("mnist", scale="binarize_stochastic", flatten=True)
    train_x, test_x, test_y = splits.train.x, splits.test.x, splits.test.y
    if args.train_subset:
        train_x = train_x[: args.train_subset]
    train_x, test_x = train_x.to(device), test_x.to(device)  # the data live on the device
    iwae_x = test_x[: args.iwae_images] if args.iwae_images else test_x
    iwae_batch = args.iwae_batch or (500 if device.type == "cuda" else 50)
    print(f"MNIST, stochastic binarization: {len(train_x)} training, {len(test_x)} test images; device {device}")

    torch.manual_seed(args.seed)
    vae = VAE(784, args.latent, hidden=args.hidden, activation=args.activation).to(device)
    # the final estimate's cost does not depend on the weights: time it on a slice now and keep that time back
    iwae(vae, iwae_x[:2], 10, seed=args.seed, batch=2)  # warm-up: the device's libraries load on the first call
    probe = iwae_x[: min(len(iwae_x), iwae_batch)]
    _, probe_s = iwae(vae, probe, args.k, seed=args.seed, batch=iwae_batch)
    reserve_s = 1.25 * probe_s * len(iwae_x) / len(probe) + 20 + (30 if not args.smoke else 0)
    deadline = start + 60 * args.budget_minutes - reserve_s
    print(f"IWAE-{args.k} on {len(iwae_x)} test images: ~{reserve_s:.0f} s kept back for it")

    record: dict[str, Any] = {
        "device": str(device),
        "binarize": "stochastic",
        "model": {
            "latent": args.latent,
            "hidden": args.hidden,
            "activation": args.activation,
            "likelihood": "bernoulli",
        },
        "optimizer": {"type": "adam", "lr": args.lr, "batch_size": args.batch_size},
        "train_examples": len(train_x),
        "budget_minutes": args.budget_minutes,
        "target_test_elbo": TARGET_ELBO,
        "published": PUBLISHED,
        "epochs": [],
        "note": args.note,
        "status": "training",
    }
    g_eval = torch.Generator(device=device)

    def on_epoch(epoch: int, logs: dict[str, float], steps: int) -> None:
        g_eval.manual_seed(args.seed + 1)
        figures = test_elbo(vae, test_x, generator=g_eval)
        row = {
            "epoch": epoch,
            "steps": steps,  # the last epoch may have been cut short by the budget
            "train_negative_elbo": logs["loss"],
            "test_elbo": figures["elbo"],
            "seconds": round(time.time() - start, 1),
        }
        record["epochs"].append(row)
        record.update(test=figures, epochs_done=epoch)
        write_json(out_dir, name, record)
        print(
            f"epoch {epoch}: train -ELBO {logs['loss']:.2f}, test ELBO {figures['elbo']:.2f} ({row['seconds']:.0f} s)"
        )

    trainer = Trainer(
        vae,
        optimizer={"type": "adam", "lr": args.lr},
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=device,
        seed=args.seed,
        callbacks=[Budget(deadline, on_epoch)],
        verbose=0,
    )
    train_start = time.time()
    trainer.fit(ArrayDataset(train_x))
    record["train_minutes"] = (time.time() - train_start) / 60
    record["stop_reason"] = trainer.stop_reason or "epochs done"

    g_eval.manual_seed(args.seed + 1)
    record["test"] = test_elbo(vae, test_x, generator=g_eval)  # the last epoch's figures (also when none ended)
    record["epochs_done"], record["steps"] = trainer.epoch, trainer.step
    values, seconds = iwae(vae, iwae_x, args.k, seed=args.seed + 2, batch=iwae_batch)
    g_eval.manual_seed(args.seed + 1)
    elbo_same = test_elbo(vae, iwae_x, generator=g_eval)["elbo"]
    record["iwae"] = {
        "k": args.k,
        "images": len(iwae_x),
        "test_log_likelihood": float(values.double().mean()),
        "standard_error": float(values.double().std() / math.sqrt(len(values))),
        "elbo_same_images": elbo_same,
        "seconds": seconds,
    }
    elbo = record["test"]["elbo"]
    record["target_met"] = elbo >= TARGET_ELBO
    subset = f" (first {len(iwae_x)} test images)" if len(iwae_x) < len(test_x) else ""
    rows = vae_rows(record, f"{name}.json") + rbm_rows()
    record["table"] = rows
    record["status"] = "done"
    record["total_minutes"] = (time.time() - start) / 60
    print(
        f"test ELBO {elbo:.2f} nats (target >= {TARGET_ELBO}: {'met' if record['target_met'] else 'NOT met'}); "
        f"IWAE-{args.k}{subset}: {record['iwae']['test_log_likelihood']:.2f} +- {record['iwae']['standard_error']:.2f}"
        f" nats ({seconds:.0f} s); ELBO on the same images {elbo_same:.2f}"
    )
    print()
    print(table(rows))
    if not args.smoke:
        from lamina.generative.variational.plots import plot_latent_space, plot_samples_and_reconstructions

        g = torch.Generator(device=device).manual_seed(0)
        plot_samples_and_reconstructions(
            vae, test_x, out_dir / f"{name}_samples.png", image_shape=(28, 28), generator=g
        )
        plot_latent_space(vae, test_x[:5000], test_y[:5000], out_dir / f"{name}_latent.png")
        torch.save(vae.state_dict(), out_dir / f"{name}_weights.pt")
    write_json(out_dir, name, record)
    print(f"written: {out_dir / name}.json ({record['total_minutes']:.1f} min in all)")


if __name__ == "__main__":
    main()

"""The copy task (Graves, Wayne & Danihelka, 2014, section 4.1) with lamina's ``ntm`` layer: train on random 8-bit
sequences of lengths 1-20, report the bit errors per sequence on lengths 10, 20 and 40 (and over 1-20).

    nice -n 10 python -m benchmarks.ntm_copy --budget-minutes 10 --threads 1   # a CPU run (2 busy cores)
    python -m benchmarks.ntm_copy --smoke --threads 1                       # seconds, no figures kept

Model: the paper's 128 x 20 memory, one read and one write head, a 100-unit LSTM controller, shifts -1..1; each
batch holds ``--batch-size`` sequences of one length drawn uniformly from 1-20. Adam (lr 1e-3) with the gradient
norm clipped at 10, as Collier & Beel (2018) train it (the paper used RMSProp, lr 1e-4, momentum 0.9). Target in
issue 27: near-zero bit error on lengths 1-20 after training (the paper's NTM reaches it after about 200,000
sequences); length 40, twice the longest trained on, measures generalisation. Evaluation uses 200 fresh sequences
per length from a separate generator. The JSON (``results/ntm_copy[_smoke].json``) is rewritten at every
evaluation, so a run stopped early keeps what it reached.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import RESULTS, add_threads_option, command, limit_threads, machine
from lamina import jsonio
from lamina.memory import NTM, bit_errors, copy_batch, copy_loss

BITS = 8
EVAL_LENGTHS = (10, 20, 40)


def write_json(out_dir: Path, name: str, record: dict[str, Any]) -> Path:
    """``out_dir/<name>.json`` with the command, date and machine, replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    full = {"benchmark": name, "command": command(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(jsonio.dumps({**full, **record}, indent=2) + "\n")
    tmp.replace(path)
    return path


class CopyModel(torch.nn.Module):
    """The NTM with one logit per bit: ``(B, L, bits + 1) -> (B, L, bits)``."""

    def __init__(self, memory_slots: int, memory_width: int, controller_units: int) -> None:
        super().__init__()
        self.ntm = NTM(
            BITS + 1,
            units=BITS,
            memory_slots=memory_slots,
            memory_width=memory_width,
            controller_units=controller_units,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ntm(x)


@torch.no_grad()
def evaluate(model: torch.nn.Module, lengths: list[int], sequences: int, seed: int) -> dict[str, float]:
    """Mean bit errors per sequence at each length in ``lengths`` (``sequences`` fresh sequences each)."""
    g = torch.Generator().manual_seed(seed)
    model.eval()
    out = {}
    for length in lengths:
        x, y = copy_batch(sequences, length, BITS, generator=g)
        out[str(length)] = float(bit_errors(model(x), y).mean())
    model.train()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="wall-clock budget of the training")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many batches")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip", type=float, default=10.0, help="gradient-norm clip")
    parser.add_argument("--max-length", type=int, default=20, help="train on lengths 1..max-length")
    parser.add_argument("--memory-slots", type=int, default=128)
    parser.add_argument("--memory-width", type=int, default=20)
    parser.add_argument("--controller-units", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=250, help="batches between evaluations")
    parser.add_argument("--eval-sequences", type=int, default=200, help="fresh sequences per evaluated length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--name", default=None, help="result name (default ntm_copy, or ntm_copy_smoke)")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run in seconds: small memory, 10 batches of lengths 1-5"
    )
    add_threads_option(parser)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    if args.smoke:
        args.memory_slots, args.memory_width, args.controller_units = 48, 8, 16
        args.max_steps, args.eval_every, args.eval_sequences, args.max_length = 10, 5, 8, 5
    name = args.name or ("ntm_copy_smoke" if args.smoke else "ntm_copy")

    torch.manual_seed(args.seed)
    model = CopyModel(args.memory_slots, args.memory_width, args.controller_units)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    g = torch.Generator().manual_seed(args.seed + 1)
    record: dict[str, Any] = {
        "task": f"copy, {BITS}-bit vectors, train lengths 1-{args.max_length}, batches of one length",
        "model": {
            "memory_slots": args.memory_slots,
            "memory_width": args.memory_width,
            "controller_units": args.controller_units,
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        "optimizer": {"name": "adam", "lr": args.lr, "clip": args.clip, "batch_size": args.batch_size},
        "curve": [],
        "status": "running",
    }
    train_lengths = list(range(1, args.max_length + 1))
    start, step, recent = time.perf_counter(), 0, []
    budget = args.budget_minutes * 60.0
    stop_reason = "max steps"
    while args.max_steps is None or step < args.max_steps:
        if time.perf_counter() - start > budget:
            stop_reason = "time budget spent"
            break
        length = int(torch.randint(1, args.max_length + 1, (1,), generator=g))
        x, y = copy_batch(args.batch_size, length, BITS, generator=g)
        logits = model(x)
        loss = copy_loss(logits, y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        step += 1
        recent.append(float(bit_errors(logits.detach(), y).mean()) / length)  # per vector: lengths differ
        if step % args.eval_every == 0:
            point = {
                "step": step,
                "sequences": step * args.batch_size,
                "minutes": (time.perf_counter() - start) / 60.0,
                "train_bit_errors_per_vector": sum(recent) / len(recent),
                "loss": loss.item(),
                "eval": evaluate(model, [10, 20], args.eval_sequences, seed=10_000),
            }
            recent = []
            record["curve"].append(point)
            write_json(args.out_dir, name, record)
            print(
                f"step {step:6d} {point['minutes']:6.1f} min  "
                f"train err/vector {point['train_bit_errors_per_vector']:.3f}"
                f"  eval {point['eval']}",
                flush=True,
            )
    minutes = (time.perf_counter() - start) / 60.0
    final = evaluate(model, list(EVAL_LENGTHS), args.eval_sequences, seed=20_000)
    per_length = evaluate(model, train_lengths, max(1, args.eval_sequences // 10), seed=30_000)
    record.update(
        {
            "status": "done",
            "stop_reason": stop_reason,
            "steps": step,
            "sequences": step * args.batch_size,
            "train_minutes": minutes,
            "bit_errors_per_sequence": final,
            "bit_errors_per_sequence_lengths_1_to_max": sum(per_length.values()) / len(per_length),
            "bit_errors_by_train_length": per_length,
        }
    )
    path = write_json(args.out_dir, name, record)
    mean_train = record["bit_errors_per_sequence_lengths_1_to_max"]
    print(f"{step} batches ({step * args.batch_size} sequences) in {minutes:.1f} min ({stop_reason})")
    print(f"bit errors per sequence: {final}; lengths 1-{args.max_length} mean {mean_train:.2f}")
    print(f"wrote {path}")
    if not math.isfinite(loss.item()):
        raise SystemExit("training diverged (non-finite loss)")


if __name__ == "__main__":
    main()

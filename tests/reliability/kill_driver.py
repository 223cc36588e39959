"""Run ``lamina ...`` in this process and SIGKILL it at a chosen point (used by the kill-and-resume tests).

KILL_AT_STEP=N          kill just before optimizer step N (global count, across resumes)
KILL_IN_WRITE=N         kill in the middle of the N-th checkpoint write (half the bytes written, not renamed)
KILL_IN_PRETRAIN_LAYER=N kill when greedy pretraining reaches its N-th layer (0-based)
KILL_IN_REPORT=1        kill while the run's report is being written (after its plots)
INTERRUPT_AT_STEP=N     Ctrl-C (SIGINT) just before optimizer step N
"""

from __future__ import annotations

import io
import os
import signal
import sys


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    from lamina.train import checkpoint, trainer

    kill_step = int(os.environ.get("KILL_AT_STEP", "0"))
    interrupt_step = int(os.environ.get("INTERRUPT_AT_STEP", "0"))
    if interrupt_step:
        # a background job of a shell without job control starts with SIGINT ignored, and Python keeps that; a
        # terminal's Ctrl-C reaches a foreground process with Python's own handler, so install it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if kill_step or interrupt_step:
        original_step = trainer.Trainer._train_step

        def step(self, x, y):
            if self.step + 1 == kill_step:
                die()
            if self.step + 1 == interrupt_step:
                os.kill(os.getpid(), signal.SIGINT)  # Python raises KeyboardInterrupt here, as on Ctrl-C
            return original_step(self, x, y)

        trainer.Trainer._train_step = step

    kill_write = int(os.environ.get("KILL_IN_WRITE", "0"))
    if kill_write:
        real_save, writes = checkpoint.torch.save, [0]

        def torn_save(obj, fh):
            writes[0] += 1
            if writes[0] != kill_write:
                return real_save(obj, fh)
            buffer = io.BytesIO()
            real_save(obj, buffer)
            data = buffer.getvalue()
            fh.write(data[: len(data) // 2])
            fh.flush()
            os.fsync(fh.fileno())
            die()

        checkpoint.torch.save = torn_save

    kill_layer = os.environ.get("KILL_IN_PRETRAIN_LAYER")
    if kill_layer is not None:
        original_fit, calls = trainer.Trainer.fit, [0]

        def fit(self, *args, **kwargs):
            if hasattr(self.model, "hidden_bias"):  # a greedy module
                if calls[0] == int(kill_layer):
                    die()
                calls[0] += 1
            return original_fit(self, *args, **kwargs)

        trainer.Trainer.fit = fit

    if os.environ.get("KILL_IN_REPORT"):
        import lamina.report

        def killed_report(*args, **kwargs):
            die()

        lamina.report.write_report = killed_report

    from lamina.cli import main as cli

    sys.argv = ["lamina", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()

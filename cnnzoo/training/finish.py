"""The end of a run: the confusion matrix of ``best.pth``, the figures, the ONNX file."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import torch

from ..errors import CnnzooError
from .loop import evaluate_split
from .results import TrainResult

if TYPE_CHECKING:
    from .run import _Run

__all__ = ["finish"]


def finish(run: _Run, *, plots: bool, onnx: bool) -> TrainResult:
    state, out, classes = run.state, run.out, run.sets.classes
    rank, k = run.dist.rank, len(classes)
    confusion = None
    if state.best_weights is not None and run.sets.val is not None:
        best = copy.deepcopy(run.model)
        best.load_state_dict(state.best_weights)
        _, _, _, counts = evaluate_split(
            best, *run.sets.val, run.norm, k, rank=rank, world=run.dist.world
        )
        if run.dist.active:
            counts = torch.tensor(run.dist.all_sum(counts.double().tolist())).long()
        confusion = counts.view(k, k).tolist()
        if rank == 0 and plots:
            from .. import plots as plotting

            plotting.save_confusion_matrix(
                confusion, classes, out / "confusion_matrix.png",
                title=f"best.pth (epoch {state.best['epoch']}) on the validation images",
            )  # fmt: skip
            images, labels = run.sets.val
            # A seeded random choice, so the grid shows several classes and is the same each run.
            gen = torch.Generator().manual_seed(run.cfg["seed"])
            pick = torch.randperm(len(labels), generator=gen)[:16].sort().values
            with torch.inference_mode():
                best.eval()
                pred = best(run.norm(images[pick])).argmax(1).cpu()
            plotting.save_samples(
                images[pick], labels[pick].tolist(), pred.tolist(), classes, out / "samples.png"
            )
    if rank == 0 and plots:
        from .. import plots as plotting

        plotting.save_history_plots(
            state.history, out / "loss.png", out / "accuracy.png", best_epoch=state.best["epoch"]
        )

    onnx_path = None
    if onnx and rank == 0:
        try:
            from ..export import export_onnx  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise CnnzooError(
                "--onnx needs cnnzoo.export_onnx, which this installation does not have; "
                f"export later with: cnnzoo export {run.model_name} --checkpoint {out / 'best.pth'}"
            ) from exc
        onnx_path = out / "best.onnx"
        export_onnx(run.model_name, onnx_path, checkpoint=out / "best.pth")
    run.emit("end", run.cfg["epochs"])
    return TrainResult(
        model=run.model_name,
        out=out,
        best=out / "best.pth",
        last=out / "last.pth",
        history=state.history,
        best_epoch=int(state.best["epoch"]),
        labels=classes,
        confusion=confusion,
        onnx=onnx_path,
        rank=rank,
        world_size=run.dist.world,
    )

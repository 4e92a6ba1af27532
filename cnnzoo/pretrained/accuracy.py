"""Document 004's "top5 accuracy" column against the published weights and the papers.

The summary table of document 004 prints one top-5 accuracy per network (AlexNet 84.70%, VGGNet
92.30%, Inception 93.30%, ResNet-152 95.51%). None of them is what the published weights of that
network measure today, and each paper reports its figure under its own protocol. For every row
this module gives three figures side by side:

* the printed one, read as top-5 error = 100 - accuracy;
* torchvision's measured ImageNet-1K acc@5 of the corresponding published weights (from the
  shipped catalogue: one model, one 224 x 224 centre crop of the image resized to 256 (232 for
  the V2 ResNets), on the 50,000 validation images);
* the paper's own figure, with where it is printed and the protocol (test or validation set,
  single model or ensemble, how many crops), quoted only from text that was read.

A printed figure without a recorded explanation, or a measured figure that changed since the
explanation was written (the catalogue was regenerated from another torchvision), fails the
check, so an explanation cannot hide a difference it does not describe.

The reconciliation is a self-contained part of ``cnnzoo check``: the checker calls
[`reconcile_row`][cnnzoo.pretrained.accuracy.reconcile_row] for every row of a table of whole
models that prints a ``top5`` value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import weights_of

__all__ = ["EXPLANATIONS", "Explanation", "TopFive", "reconcile_row"]


@dataclass(frozen=True)
class Explanation:
    """Why one printed top-5 accuracy differs from the published weights' measurement.

    Attributes:
        model: the cnnzoo model whose published weights measure the row's network.
        weights: the weights set (torchvision's name).
        measured: the acc@5 (%) those weights had when this was written (checked against the
            catalogue, so a changed measurement fails until the text is reviewed).
        paper: the paper's figure and where it is printed.
        printed_is: what the printed figure is, in the paper's terms (or that it is none).
        causes: why the published weights measure something else, each cause cited.
    """

    model: str
    weights: str
    measured: float
    paper: str
    printed_is: str
    causes: tuple[str, ...]


_TV = (
    "torchvision's _metrics acc@5: one model, a single centre crop ('Accuracies are reported on "
    "ImageNet-1K using single crops', torchvision's models page), the validation images"
)

#: Keyed by the row id of document 004's summary table.
EXPLANATIONS: dict[str, Explanation] = {
    "AlexNet": Explanation(
        model="alexnet_torchvision",
        weights="IMAGENET1K_V1",
        measured=79.066,
        paper=(
            "Krizhevsky, Sutskever & Hinton 2012, Section 6.1 and Table 2: 15.3% top-5 error on "
            "the ILSVRC-2012 test set, by averaging seven CNNs, two of them pre-trained on the "
            "whole ImageNet Fall 2011 release (15M images, 22K categories); one CNN of the "
            "paper: 18.2% top-5 error on the validation set; five CNNs: 16.4%"
        ),
        printed_is="100 - 15.3: the seven-CNN ensemble's ILSVRC-2012 test result",
        causes=(
            "ensemble of seven CNNs (two trained with extra data) against one model",
            "the test set against the validation set",
            "torchvision's AlexNet is the architecture of 'One weird trick for parallelizing "
            "convolutional neural networks' (Krizhevsky 2014), as torchvision.models.alexnet's "
            "docstring says, not the 2012 paper's",
        ),
    ),
    "VGGNet": Explanation(
        model="vgg16",
        weights="IMAGENET1K_V1",
        measured=90.382,
        paper=(
            "Simonyan & Zisserman 2015, Section 4.4 (Table 6): the ILSVRC-2014 submission, an "
            "ensemble of 7 networks, has 7.3% top-5 test error; after the submission two "
            "networks (D and E) gave 7.0% with dense and 6.8% with dense and multi-crop "
            "evaluation; the best single model 7.1% (model E, Table 5). Szegedy et al. 2015, "
            "Table 2, lists VGG's ILSVRC-2014 entry at 7.32%"
        ),
        printed_is=(
            "no figure of the paper: 100 - 7.3 is 92.7%, not the printed 92.30%; the source "
            "of 92.30% could not be found"
        ),
        causes=(
            "ensemble of 7 networks against one model",
            "multi-scale dense and multi-crop evaluation against one centre crop",
            "the test set against the validation set",
        ),
    ),
    "Inception": Explanation(
        model="googlenet_torchvision",
        weights="IMAGENET1K_V1",
        measured=89.53,
        paper=(
            "Szegedy et al. 2015, Section 7 and Tables 2-3: 6.67% top-5 error on both the "
            "validation and the test data, from 7 GoogLeNets averaged over 144 crops per image "
            "(4 scales x 3 squares x 6 crops x 2 mirrors); one model on one crop: 10.07% "
            "(validation, Table 3)"
        ),
        printed_is="100 - 6.7 (6.67 rounded): the 7-model, 144-crop ILSVRC-2014 result",
        causes=(
            "ensemble of 7 models and 144 crops against one model and one crop (the paper's own "
            "1 model / 1 crop figure, 89.93% top-5 accuracy, is within 0.4 points of "
            "torchvision's)",
            "torchvision's GoogLeNet has BatchNorm and 3x3 convolutions in the '5x5' branch",
        ),
    ),
    "ResNet-152": Explanation(
        model="resnet152",
        weights="IMAGENET1K_V2",
        measured=96.002,
        paper=(
            "He et al. 2016, Table 4: ResNet-152 single model, 4.49% top-5 error on the ImageNet "
            "validation set; with 10-crop testing 5.71% (Table 3); the ILSVRC-2015 ensemble "
            "3.57% on the test set (Table 5)"
        ),
        printed_is="100 - 4.49: the single-model validation result of Table 4",
        causes=(
            "the paper's evaluation (Table 4) is not one centre crop (10-crop testing alone "
            "gives 5.71%, Table 3)",
            "torchvision's DEFAULT weights (IMAGENET1K_V2) were retrained with a newer recipe "
            "(its recipe link); its IMAGENET1K_V1 set, trained as in the paper, measures "
            "94.046%",
        ),
    ),
}


@dataclass(frozen=True)
class TopFive:
    """One row's printed top-5 accuracy, reconciled."""

    row: str
    printed: str
    explanation: Explanation | None
    #: torchvision's acc@5 of the weights, from the shipped catalogue (None: no such weights).
    measured: float | None
    failure: str | None

    def extra(self) -> dict[str, Any]:
        """Plain values for the row's ``extra`` in the check report."""
        e = self.explanation
        if e is None:
            return {"top5_explained": False}
        return {
            "top5_model": e.model,
            "top5_weights": e.weights,
            "top5_measured": self.measured,
            "top5_paper": e.paper,
            "top5_printed_is": e.printed_is,
            "top5_causes": list(e.causes),
            "top5_explained": self.failure is None,
        }

    def lines(self) -> list[str]:
        """The text ``cnnzoo check`` prints for the row."""
        e = self.explanation
        if e is None:
            return [f"{self.row}: top-5 {self.printed}: {self.failure}"]
        measured = f"{self.measured:.2f}%" if self.measured is not None else "?"
        out = [
            f"{self.row}: printed {self.printed}, {e.model} {e.weights} measures {measured} "
            f"({_TV})",
            f"    paper: {e.paper}",
            f"    printed figure: {e.printed_is}",
            *(f"    - {c}" for c in e.causes),
        ]
        if self.failure:
            out.append(f"    NOT RECONCILED: {self.failure}")
        return out


def _measured(model: str, weights: str) -> float | None:
    for info in weights_of(model):
        if info.name == weights:
            return info.acc5
    return None


def reconcile_row(row_id: str, extra: Mapping[str, Any]) -> TopFive | None:
    """The reconciliation of a row that prints ``top5``; ``None`` for a row that does not."""
    printed = extra.get("top5")
    if printed is None:
        return None
    e = EXPLANATIONS.get(row_id)
    if e is None:
        return TopFive(
            str(row_id),
            str(printed),
            None,
            None,
            "no recorded explanation of this top-5 accuracy (cnnzoo.pretrained.accuracy)",
        )
    measured = _measured(e.model, e.weights)
    failure = None
    if measured is None:
        failure = f"{e.model} has no weights {e.weights} in the catalogue"
    elif abs(measured - e.measured) > 1e-9:
        failure = (
            f"{e.model} {e.weights} now measures {measured}%, the explanation was written for "
            f"{e.measured}%; review it"
        )
    return TopFive(str(row_id), str(printed), e, measured, failure)

"""Export LeNet-5 to ONNX and run the file with onnxruntime, without PyTorch in the loop.

``cnnzoo.export_onnx`` writes the file only after onnxruntime has given PyTorch's logits on
random batches; the file carries the model card (labels, normalisation, source) in its
metadata, so the script below needs nothing but the .onnx file to classify an image.

    python examples/export_onnx.py            # lenet5 and emotionNet (the lab's model)
    python examples/export_onnx.py --quick    # lenet5 only (CNNZOO_QUICK=1 does the same)

Open the files in Netron to see the layers by name: ``cnnzoo export lenet5 --netron``.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

import cnnzoo


def classify(path: str, image: np.ndarray) -> str:
    """Normalise a uint8 image (C, H, W) as the file's metadata says and return its label."""
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    mean = np.array(json.loads(meta["mean"]), dtype=np.float32).reshape(-1, 1, 1)
    std = np.array(json.loads(meta["std"]), dtype=np.float32).reshape(-1, 1, 1)
    labels = json.loads(meta["class_labels"])
    x = ((image.astype(np.float32) / 255.0 - mean) / std)[None]  # a batch of one: N x C x H x W
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"input": x})
    return labels[int(logits[0].argmax())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="lenet5 only (seconds)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"

    names = ["lenet5"] if quick else ["lenet5", "emotionnet"]
    rng = np.random.default_rng(0)
    for name in names:
        # A trained model would come from a checkpoint:
        #     cnnzoo.export_onnx(name, f"{name}.onnx", checkpoint="lenet5_mnist.pt")
        # Without one the weights are random (seed 0, rescaled so the check means something).
        report = cnnzoo.export_onnx(name, f"{name}.onnx")
        print(report)  # path, size, opset, shapes, and the measured max |ORT - torch|

        meta = {p.key: p.value for p in onnx.load(f"{name}.onnx").metadata_props}
        print("metadata:", {k: v[:60] for k, v in meta.items()})

        # Any uint8 image at the model's input size; random here, a real digit or face in use.
        c, h, w = json.loads(meta["input_size"])
        image = rng.integers(0, 256, size=(c, h, w), dtype=np.uint8)
        print(f"{name} says: {classify(f'{name}.onnx', image)!r} (random weights: any label)")
        print()


if __name__ == "__main__":
    main()

"""Give emotionNet a new head: from the lab's 3 emotions to FER2013's 7.

The lab trains emotionNet (SI100FaceNet) on happy, neutral and sad faces; its bonus task asks
for FER2013's seven emotions. The convolutional features carry over, so only the final layer
needs replacing: ``reset_classifier(7)`` does that, and training just the new head is the
classic transfer-learning recipe.

cnnzoo downloads nothing, so random tensors stand in for the faces here: the shapes, the
normalisation and the code are the real ones, the accuracy is not.

    python examples/swap_head.py            # 100 training steps on the new head
    python examples/swap_head.py --quick    # 5 steps (CNNZOO_QUICK=1 does the same)
"""

from __future__ import annotations

import argparse
import os

import torch
from torch import nn

import cnnzoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (seconds)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"
    torch.manual_seed(0)

    card = cnnzoo.model_info("emotionnet")
    print("default classes:", card.class_labels)  # ('happy', 'neutral', 'sad')

    # In the lab you would start from your trained 3-class weights:
    #     model = cnnzoo.create("emotionnet", weights="face_expression.pth")
    model = cnnzoo.create("emotionnet")
    print("old head:", model.get_classifier())  # Linear(in_features=64, out_features=3)

    # Swap the head. The card knows FER2013's labels, in the order of fer2013.csv's column.
    model.reset_classifier(7)
    labels = card.labels_for(7)
    print("new head:", model.get_classifier())  # Linear(in_features=64, out_features=7)
    print("FER2013 labels:", labels)
    # (Starting from scratch, cnnzoo.create("emotionnet", num_classes=7) builds the same shape.)

    # Freeze everything but the new head: the features stay as they were trained.
    for p in model.parameters():
        p.requires_grad = False
    for p in model.get_classifier().parameters():
        p.requires_grad = True
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    print(f"trainable parameters: {trainable:,} of {total:,}")

    # A batch as the lab's loader gives it: N x 3 x 48 x 48, normalised to [-1, 1]
    # (card.mean and card.std are 0.5 per channel). Random here; FER2013 faces in real use.
    faces = torch.rand(32, 3, 48, 48) * 2 - 1
    targets = torch.randint(0, 7, (32,))
    conv1_before = model.conv1.weight.clone()

    optimizer = torch.optim.SGD(model.get_classifier().parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    steps = 5 if quick else 100
    model.train()
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_fn(model(faces), targets)
        loss.backward()
        optimizer.step()
        if step == 1 or step == steps:
            print(f"step {step:3d}: loss {loss.item():.3f}")
    print("features unchanged:", torch.equal(model.conv1.weight, conv1_before))

    # Predict: the index of the largest logit names the emotion.
    model.eval()
    with torch.no_grad():
        predicted = model(faces[:4]).argmax(1)
    print("predicted:", [labels[i] for i in predicted])

    # A common mistake, caught with a clear message: a grey 1-channel face.
    try:
        model(torch.zeros(1, 1, 48, 48))
    except cnnzoo.InputShapeError as exc:
        print("error, as expected:", exc)


if __name__ == "__main__":
    main()

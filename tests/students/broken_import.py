"""Raises while it is imported."""

import torch.nn as nn

raise RuntimeError("the dataset folder 'img/train' does not exist")


class emotionNet(nn.Module):
    pass

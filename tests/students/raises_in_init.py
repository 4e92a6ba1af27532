"""A constructor that raises."""

import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, printtoggle):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, paddin=1)

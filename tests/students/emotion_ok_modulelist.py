import torch
import torch.nn as nn
import torch.nn.functional as F


class emotionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 128, 3), nn.Conv2d(128, 256, 4)]
        )
        self.fcs = nn.ModuleList([nn.Linear(4096, 256), nn.Linear(256, 64), nn.Linear(64, 3)])

    def forward(self, x):
        for conv in self.layers:
            x = F.leaky_relu(F.max_pool2d(conv(x), kernel_size=2, stride=2))
        x = torch.flatten(x, 1)
        for i, fc in enumerate(self.fcs):
            x = fc(x)
            if i < 2:
                x = F.leaky_relu(x)
        return x

"""conv2 with padding=1 where Figure 2 has 0: 24 -> 24 -> 12 -> 9 -> 4, so the flatten is still
4096 and the parameter count is the same as the figure's."""

import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, printtoggle=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv3 = nn.Conv2d(128, 256, 4)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.LeakyReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(256 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        x = self.act(self.pool(self.conv1(x)))
        x = self.act(self.pool(self.conv2(x)))
        x = self.act(self.pool(self.conv3(x)))
        x = self.act(self.fc1(self.flatten(x)))
        x = self.act(self.fc2(x))
        return self.fc3(x)

"""conv3 with a 3x3 kernel where Figure 2 has 4: 11 -> 9 -> 4, the flatten is 4096 again."""

import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, printtoggle=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3)
        self.conv3 = nn.Conv2d(128, 256, 3)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.LeakyReLU()
        self.fc1 = nn.Linear(4096, 256)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        x = self.act(self.pool(self.conv1(x)))
        x = self.act(self.pool(self.conv2(x)))
        x = self.act(self.pool(self.conv3(x)))
        x = x.view(x.size(0), -1)
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

"""Correct emotionNet: its own names, one self.pool reused, the template's printtoggle, prints."""

import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, printtoggle=False):
        super().__init__()
        self.print = printtoggle
        self.c1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1)
        self.c2 = nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=0)
        self.c3 = nn.Conv2d(128, 256, kernel_size=4, stride=1, padding=0)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.LeakyReLU()
        self.l1 = nn.Linear(256 * 4 * 4, 256)
        self.l2 = nn.Linear(256, 64)
        self.l3 = nn.Linear(64, 3)
        print("built emotionNet")

    def forward(self, x):
        x = self.act(self.pool(self.c1(x)))
        if self.print:
            print(x.shape)
        x = self.act(self.pool(self.c2(x)))
        x = self.act(self.pool(self.c3(x)))
        x = x.view(x.size(0), -1)
        print("flattened")
        x = self.act(self.l1(x))
        x = self.act(self.l2(x))
        return self.l3(x)

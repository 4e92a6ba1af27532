"""The lab's classify.py, filled in as a student would: Figure 2 "SI100FaceNet" (document 000).

Used by the guide "Check your own network": ``cnnzoo check emotionnet --model
examples/check/classify.py:emotionNet``.
"""

import torch
import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, printtoggle):
        super().__init__()
        self.print = printtoggle
        # step 1: convolution, pooling, activation and fully connected layers
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=0)
        self.conv3 = nn.Conv2d(128, 256, kernel_size=4, stride=1, padding=0)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.LeakyReLU()
        self.fc1 = nn.Linear(256 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        # step 2: convolution -> maxpool -> relu, three times
        x = self.relu(self.pool(self.conv1(x)))
        if self.print:
            print(x.shape)
        x = self.relu(self.pool(self.conv2(x)))
        x = self.relu(self.pool(self.conv3(x)))
        x = torch.flatten(x, 1)  # flatten for the linear layers
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)

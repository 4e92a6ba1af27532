"""Document 004's second LeNet-5 listing: conv_pool1, conv_pool2, fc1, fc2, out Sequentials."""

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_pool1 = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=6, kernel_size=(5, 5), padding=0),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=2),
        )
        self.conv_pool2 = nn.Sequential(
            nn.Conv2d(6, 16, kernel_size=5, stride=1, padding=0),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc1 = nn.Sequential(nn.Linear(16 * 5 * 5, 120), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(120, 84), nn.ReLU())
        self.out = nn.Sequential(nn.Linear(84, 10))

    def forward(self, x):
        x = self.conv_pool1(x)
        x = self.conv_pool2(x)
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        x = self.fc2(x)
        return self.out(x)

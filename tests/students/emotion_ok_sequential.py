"""Correct emotionNet in nested Sequentials, conv -> LeakyReLU -> pool, nn.Flatten, 7 classes."""

import torch.nn as nn


def block(cin, cout, k, p):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=p), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2))


class EmotionNet(nn.Module):
    def __init__(self, printtoggle=False, num_classes=7):
        super().__init__()
        self.features = nn.Sequential(
            block(3, 64, 3, 1), block(64, 128, 3, 0), block(128, 256, 4, 0)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Sequential(nn.Linear(4096, 256), nn.LeakyReLU()),
            nn.Sequential(nn.Linear(256, 64), nn.LeakyReLU()),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))

from collections import OrderedDict

import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, 64, 3, padding=(1, 1))),
                    ("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),
                    ("act1", nn.LeakyReLU()),
                    ("conv2", nn.Conv2d(64, 128, kernel_size=(3, 3))),
                    ("pool2", nn.MaxPool2d(kernel_size=2, stride=2)),
                    ("act2", nn.LeakyReLU()),
                    ("conv3", nn.Conv2d(128, 256, 4)),
                    ("pool3", nn.MaxPool2d(2)),
                    ("act3", nn.LeakyReLU()),
                ]
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("fc1", nn.Linear(4096, 256)),
                    ("a4", nn.LeakyReLU()),
                    ("fc2", nn.Linear(256, 64)),
                    ("a5", nn.LeakyReLU()),
                    ("fc3", nn.Linear(64, 3)),
                ]
            )
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(-1, 256 * 4 * 4)
        return self.classifier(x)

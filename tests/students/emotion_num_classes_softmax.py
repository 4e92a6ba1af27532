import torch.nn as nn


class emotionNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 3, 1, 1),
            nn.MaxPool2d(2),
            nn.LeakyReLU(),
            nn.Conv2d(64, 128, 3),
            nn.MaxPool2d(2),
            nn.LeakyReLU(),
            nn.Conv2d(128, 256, 4),
            nn.MaxPool2d(2),
            nn.LeakyReLU(),
            nn.Flatten(),
            nn.Linear(4096, 256),
            nn.LeakyReLU(),
            nn.Linear(256, 64),
            nn.LeakyReLU(),
            nn.Linear(64, num_classes),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.body(x)

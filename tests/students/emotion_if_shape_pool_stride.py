import torch
import torch.nn as nn
import torch.nn.functional as F


class emotionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3)
        self.conv3 = nn.Conv2d(128, 256, 4)
        self.fc1 = nn.Linear(4096, 256)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.leaky_relu(F.max_pool2d(self.conv1(x), 2))
        x = F.leaky_relu(F.max_pool2d(self.conv2(x), 2, stride=1))
        x = F.leaky_relu(F.max_pool2d(self.conv3(x), 2))
        x = torch.flatten(x, 1)
        return self.fc3(F.leaky_relu(self.fc2(F.leaky_relu(self.fc1(x)))))

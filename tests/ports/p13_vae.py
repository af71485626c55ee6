# A variational autoencoder in the style of pytorch/examples/vae: reparameterisation,
# binary cross-entropy + KL divergence, Adam, sampling from the prior under no_grad
import torch
import torch.nn.functional as F
from torch import nn, optim

torch.manual_seed(1)
data = (torch.rand(64, 36) > 0.6).float()


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(36, 24)
        self.fc21 = nn.Linear(24, 4)
        self.fc22 = nn.Linear(24, 4)
        self.fc3 = nn.Linear(4, 24)
        self.fc4 = nn.Linear(24, 36)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 36))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 36), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD, BCE, KLD


model = VAE()
optimizer = optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(1, 4):
    model.train()
    train_loss = 0
    for batch_idx in range(4):
        x = data[batch_idx * 16:(batch_idx + 1) * 16]
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(x)
        loss, bce, kld = loss_function(recon_batch, x, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(data):.4f}"
          f" (last BCE {bce.item():.3f}, KLD {kld.item():.3f})")
model.eval()
with torch.no_grad():
    recon, mu, logvar = model(data[:8])
    test_loss = loss_function(recon, data[:8], mu, logvar)[0].item()
    print(f"====> Test set loss: {test_loss / 8:.4f}")
    sample = model.decode(torch.randn(5, 4))
    print(sample.shape, sample.min().item() >= 0, sample.max().item() <= 1)
    comparison = torch.cat([data[:2].view(2, 1, 6, 6), recon[:2].view(2, 1, 6, 6)])
    print(comparison.shape, (recon > 0.5).float().eq(data[:8]).float().mean().item())

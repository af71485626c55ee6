# REINFORCE with a value baseline (pytorch/examples/reinforcement_learning) on a toy environment:
# torch.distributions.Categorical sampling, log_prob and entropy, discounted normalised returns,
# smooth_l1 critic loss; Normal rsample / log_prob / kl_divergence of a Gaussian policy, a PPO-style
# MultivariateNormal with a diagonal covariance
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Bernoulli, Categorical, MultivariateNormal, Normal, kl_divergence

torch.manual_seed(543)
eps = 1e-8


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(4, 16)
        self.dropout = nn.Dropout(p=0.6)
        self.affine2 = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.dropout(self.affine1(x)))
        return F.softmax(self.affine2(x), dim=1), self.value_head(x)


policy = Policy()
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
W = torch.randn(4, 4) * 0.3
for episode in range(3):
    state = torch.randn(4)
    values, entropies = [], []
    for t in range(8):
        probs, value = policy(state.unsqueeze(0))
        m = Categorical(probs)
        action = m.sample()
        policy.saved_log_probs.append(m.log_prob(action))
        entropies.append(m.entropy())
        values.append(value.squeeze())
        state = torch.tanh(W @ state + (action.float() - 0.5))
        policy.rewards.append(float(state[0] > 0) - 0.1 * t)
    R, returns = 0, []
    for r in policy.rewards[::-1]:
        R = r + 0.99 * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_loss = []
    value_losses = []
    for log_prob, v, R in zip(policy.saved_log_probs, values, returns):
        advantage = R - v.item()
        policy_loss.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(v, R))
    optimizer.zero_grad()
    loss = torch.cat(policy_loss).sum() + torch.stack(value_losses).sum() - 0.01 * torch.cat(entropies).sum()
    loss.backward()
    optimizer.step()
    print(episode, f"{loss.item():.5f}", [round(r, 2) for r in policy.rewards], f"{returns[0].item():.4f}")
    del policy.rewards[:]
    del policy.saved_log_probs[:]
d = Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5]))
s = d.rsample()
print(s.tolist(), d.log_prob(s).sum().item(), d.entropy().tolist())
c = Categorical(logits=torch.tensor([[1.0, 2.0, 0.5]]))
print(c.probs.tolist(), c.sample((4,)).squeeze(-1).tolist(), c.log_prob(torch.tensor([1])).item())
print(kl_divergence(d, Normal(torch.zeros(2), torch.ones(2))).tolist(), d.batch_shape, d.mean.tolist())
b = Bernoulli(logits=torch.tensor([0.0, 2.0]))
print(b.sample().tolist(), b.log_prob(torch.tensor([1.0, 0.0])).tolist(), b.entropy().sum().item())
action_var = torch.full((2,), 0.36)
cov_mat = torch.diag(action_var).unsqueeze(dim=0)
dist = MultivariateNormal(torch.tensor([[0.1, -0.2]]), cov_mat)
action = dist.sample()
print(action.tolist(), round(dist.log_prob(action).item(), 5), round(dist.entropy().item(), 5))

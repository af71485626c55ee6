# Time-sequence prediction (pytorch/examples/time_sequence_prediction): two stacked LSTMCells
# unrolled in a Python loop in float64, future prediction fed back, LBFGS (strong Wolfe line search) with a closure
import math
import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
T, L, N = 20, 24, 5
x = torch.empty(N, L, dtype=torch.int64)
x[:] = torch.arange(L) + torch.randint(-4 * T, 4 * T, (N,)).view(N, 1)
data = torch.sin(x / 1.0 / T).double()
input, target = data[2:, :-1], data[2:, 1:]
test_input, test_target = data[:2, :-1], data[:2, 1:]


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 12)
        self.lstm2 = nn.LSTMCell(12, 12)
        self.linear = nn.Linear(12, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


seq = Sequence()
seq.double()
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=3, line_search_fn="strong_wolfe")
for i in range(2):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        loss.backward()
        return loss
    loss = optimizer.step(closure)
    with torch.no_grad():
        future = 6
        pred = seq(test_input, future=future)
        test_loss = criterion(pred[:, :-future], test_target)
    print(f"step {i} loss {loss.item():.8f} test {test_loss.item():.8f}", pred.shape, pred.dtype)
y = pred.detach().numpy()
print(y.shape, [round(float(v), 4) for v in y[0, -3:]], math.isfinite(float(y.sum())))
print(optimizer.state_dict()["state"][0]["func_evals"], optimizer.state_dict()["state"][0]["n_iter"])

"""XOR with a 2-4-1 MLP, backward() and a hand-written SGD step — the deck's "MLP solves XOR".

A single perceptron draws one line and cannot separate XOR; one hidden layer of tanh units
bends the boundary. Run: ``python -m chainrule.examples.xor``.
"""
import chainrule as cr


def train_xor(seed: int = 1, steps: int = 2000, lr: float = 0.5, verbose: bool = True):
    """Train a 2-4-1 tanh/sigmoid MLP on XOR with full-batch gradient descent.

    Returns (loss, predictions) where predictions are the 4 rounded outputs.
    """
    cr.manual_seed(seed)
    X = cr.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    y = cr.tensor([[0.], [1.], [1.], [0.]])
    W1 = (cr.randn(2, 4) * 1.0).requires_grad_()
    b1 = cr.zeros(4, requires_grad=True)
    W2 = (cr.randn(4, 1) * 1.0).requires_grad_()
    b2 = cr.zeros(1, requires_grad=True)
    params = [W1, b1, W2, b2]
    for step in range(steps + 1):
        h = (X @ W1 + b1).tanh()                      # hidden layer
        p = (h @ W2 + b2).sigmoid()                   # output probability
        loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()   # binary cross-entropy
        for w in params:
            w.grad = None
        loss.backward()                               # chain of vector-Jacobian products
        with cr.no_grad():
            for w in params:
                w -= lr * w.grad                      # θ ← θ − η g
        if verbose and step % 500 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}")
    preds = [int(round(v)) for v in p.detach().reshape(-1).tolist()]
    return loss.item(), preds


def main():
    loss, preds = train_xor()
    print("inputs       [[0, 0], [0, 1], [1, 0], [1, 1]]")
    print(f"predictions  {preds}   (target [0, 1, 1, 0])")
    print("XOR solved" if preds == [0, 1, 1, 0] else "XOR not solved")


if __name__ == "__main__":
    main()

# Global settings scripts set at the top: determinism flags, matmul precision, default dtype,
# generators and rng state (fork_rng, get/set_rng_state), finfo/iinfo, tensor metadata
import torch
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
torch.use_deterministic_algorithms(True)
print(torch.are_deterministic_algorithms_enabled())
torch.set_float32_matmul_precision("high")
print(torch.get_float32_matmul_precision())
print(torch.get_num_threads() >= 1, torch.cuda.device_count(), torch.cuda.is_available())
torch.set_default_dtype(torch.float64)
print(torch.tensor([1.0]).dtype, torch.randn(2).dtype, torch.nn.Linear(2, 2).weight.dtype, torch.get_default_dtype())
torch.set_default_dtype(torch.float32)
print(hasattr(torch, "__version__"))
print(torch.device("cpu"), torch.device("cpu").type, str(torch.device("cpu")))
with torch.random.fork_rng():
    torch.manual_seed(3)
    a = torch.rand(1)
torch.manual_seed(3)
print(torch.equal(a, torch.rand(1)))
g = torch.Generator().manual_seed(5)
print(torch.randn(2, generator=g).tolist(), torch.randperm(5, generator=g).tolist(), g.initial_seed())
state = torch.get_rng_state()
r1 = torch.rand(2)
torch.set_rng_state(state)
print(torch.equal(r1, torch.rand(2)))
print(torch.finfo(torch.float32).eps, torch.iinfo(torch.int64).max, torch.finfo(torch.float16).max)
print(torch.is_tensor(torch.ones(1)), torch.is_floating_point(torch.ones(1)), torch.numel(torch.ones(2, 3)))
x = torch.ones(2, 3)
print(x.is_contiguous(), x.t().is_contiguous(), x.t().contiguous().stride(), x.storage_offset(), x.element_size(), x.nbytes)
print(x.data_ptr() == x.data_ptr(), x.device, x.is_cuda, x.dim(), x.ndimension(), x.nelement())

import torch

# Tests run in parallel workers; one thread each avoids oversubscribing.
torch.set_num_threads(1)

"""Loads the checkpoint written by pytorch-interop.mjs into the same torch.nn.Sequential with
safetensors.torch.load_file and strict=True, and compares PyTorch's logits with ours."""
import sys

import numpy as np
import torch
from safetensors.torch import load_file

d = sys.argv[1] if len(sys.argv) > 1 else 'pytorch-interop'
state = load_file(f'{d}/mlp.safetensors')
print('keys', {k: tuple(v.shape) for k, v in state.items()})
m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
print(m.load_state_dict(state, strict=True))
x = torch.from_numpy(np.load(f'{d}/x.npy'))
ours = np.load(f'{d}/logits.npy')
with torch.no_grad():
    theirs = m(x).numpy()
diff = float(np.abs(theirs - ours).max())
print(f'max |torch - ours| = {diff:.3g} (max |ours| = {float(np.abs(ours).max()):.3g}); argmax agree: {float((theirs.argmax(1) == ours.argmax(1)).mean())}')
sys.exit(0 if diff <= 1e-4 * max(1.0, float(np.abs(ours).max())) else 1)

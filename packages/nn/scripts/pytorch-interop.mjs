// Writes what pytorch_interop.py needs to check that PyTorch loads our checkpoints: an MLP saved
// with PyTorch naming, a batch of inputs, and our logits for them (.npy).
//
//   node packages/nn/scripts/pytorch-interop.mjs <dir>     (after `pnpm turbo run build --filter=@ml/nn`)
//   python3 packages/nn/scripts/pytorch_interop.py <dir>   (needs torch and safetensors)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '@ml/autograd';
import { Flatten, Linear, manualSeed, ReLU, Sequential } from '@ml/nn';
import { saveCheckpoint } from '@ml/nn/node';
import { random, toNpy } from '@ml/tensor';

const dir = process.argv[2] ?? 'pytorch-interop';
mkdirSync(dir, { recursive: true });
manualSeed(0);
const model = new Sequential(new Flatten(), new Linear(784, 256), new ReLU(), new Linear(256, 10)).eval();
const x = random.normal(random.key(1), [500, 1, 28, 28]); // (500, 1, 28, 28)
await saveCheckpoint(model, join(dir, 'mlp.safetensors'), { naming: 'pytorch' });
writeFileSync(join(dir, 'x.npy'), await toNpy(x));
writeFileSync(join(dir, 'logits.npy'), await toNpy(noGrad(() => model.forward(x))));
console.log(`${model}\nwrote ${dir}/mlp.safetensors, x.npy, logits.npy`);

// The two MNIST models of the main example, built from @ml/nn layers.
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@ml/nn';

/** MLP 784-256-10: (B, 1, 28, 28) → (B, 10) logits. */
export function mlp() {
  return new Sequential(
    new Flatten(), //          (B, 784)
    new Linear(784, 256), //   (B, 256)
    new ReLU(),
    new Linear(256, 10), //    (B, 10)
  );
}

/** LeNet-5 style CNN: (B, 1, 28, 28) → (B, 10) logits. */
export function lenet() {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }), // (B, 6, 28, 28)
    new ReLU(),
    new MaxPool2d(2), //                    (B, 6, 14, 14)
    new Conv2d(6, 16, 5), //                (B, 16, 10, 10)
    new ReLU(),
    new MaxPool2d(2), //                    (B, 16, 5, 5)
    new Flatten(), //                       (B, 400)
    new Linear(400, 120),
    new ReLU(),
    new Linear(120, 84),
    new ReLU(),
    new Linear(84, 10), //                  (B, 10)
  );
}

export const MODELS = { mlp, lenet };

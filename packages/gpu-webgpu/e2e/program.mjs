// The program of the browser smoke test. It runs twice with the same code: in the page on
// `await webgpu()` (Chromium's WebGPU on SwiftShader), and in Node on the CPU backend for the values
// the page must reproduce. `T` is the @ml/tensor module, `backend` the backend to run on.

/** Runs a matmul, a softmax and random draws on `backend`; returns plain arrays and the live memory after disposing. */
export async function program(T, backend) {
  const { random } = T;
  const [kw, ku, ka, kb] = random.split(random.key(2024), 4);
  // every op runs inside the scope, which frees all but the results; reading waits for the GPU
  const results = T.scope(() => {
    // a small matmul and a softmax over its rows
    const x = T.tensor([[1, 2, 3], [4, 5, 6]], { backend });
    const w = random.normal(kw, [3, 4], { backend });
    const logits = x.matmul(w);
    const probs = logits.softmax(-1);
    // a larger matmul with ragged edges (no dimension a multiple of a tile), reduced to row sums
    const a = random.uniform(ka, [37, 19], { backend, minval: -1, maxval: 1 });
    const b = random.uniform(kb, [19, 23], { backend, minval: -1, maxval: 1 });
    const rowSums = a.matmul(b).sum(1);
    // random draws: uniform bits are exact, normal goes through erfinv
    const u = random.uniform(ku, [16], { backend });
    return { weights: w, logits, softmax: probs, softmaxRowSums: probs.sum(-1), rowSums, uniform: u };
  });
  const out = {};
  for (const [name, t] of Object.entries(results)) {
    out[name] = await t.array();
    t.dispose();
  }
  const m = T.memory(backend);
  return { ...out, memory: { tensors: m.tensors, buffers: m.buffers, bytes: m.bytes } };
}

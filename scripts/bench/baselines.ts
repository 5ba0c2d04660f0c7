/** Baselines the engines are measured against: the machine's arithmetic peak and PyTorch. */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { encodeOnnxModel, loadOnnxRuntime } from '@mlbench/model';
import { BATCH } from './common';

/** FLOP/s of a float32 n x n x n MatMul in ONNX Runtime, the best of a few runs. */
export async function gemmPeak(threads: number): Promise<number> {
  const ort = loadOnnxRuntime();
  const n = 1024;
  const dims = [{ dim_value: n }, { dim_value: n }];
  const info = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims } } } });
  const bytes = encodeOnnxModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'mlbench-bench',
    producer_version: '1',
    graph: { name: 'gemm', node: [{ name: 'mm', op_type: 'MatMul', input: ['a', 'b'], output: ['c'] }], initializer: [], input: [info('a'), info('b')], output: [info('c')] },
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => (i % 13) / 13), [n, n]);
  const b = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7), [n, n]);
  let best = Infinity;
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    await session.run({ a, b });
    best = Math.min(best, performance.now() - t);
  }
  await session.release();
  return (2 * n ** 3) / (best / 1000);
}

const TORCH_SCRIPT = `
import sys, time, torch, torchvision
torch.set_num_threads(int(sys.argv[1])); batch = int(sys.argv[2]); repeats = int(sys.argv[3])
m = torchvision.models.mobilenet_v2(weights=None).eval()
x = torch.rand(batch, 3, 224, 224)
rates = []
with torch.inference_mode():
    m(x)
    for _ in range(repeats):
        t = time.perf_counter(); m(x); m(x); rates.append(2 * batch / (time.perf_counter() - t))
rates.sort(); print(torch.__version__, rates[len(rates) // 2])
`;

export function torchBaseline(threads: number, repeats: number): { version: string; imagesPerSecond: number } | { skipped: string } {
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `python3-torch/python3-torchvision not importable by ${python} (apt-get install -y python3-torch python3-torchvision)` };
  const out = execFileSync(python, ['-c', TORCH_SCRIPT, String(threads), String(BATCH), String(Math.max(3, repeats))], { encoding: 'utf8' }).trim().split(/\s+/);
  return { version: out[0], imagesPerSecond: Number(out[1]) };
}

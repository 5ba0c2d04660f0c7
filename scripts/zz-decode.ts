import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { imageBatches } from '@mlbench/data';
import { loadExtractor } from '@mlbench/model';
const PHOTOS = '/work/shared/datasets/flower_photos';
const MODEL = '/work/shared/models/mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant.tflite';
const P = { width: 224, height: 224, resize: 'bilinear', fit: 'fill', scaling: 'minus_one_to_one' } as const;
const classes = fs.readdirSync(PHOTOS).filter((d) => fs.statSync(path.join(PHOTOS, d)).isDirectory()).sort();
const items = classes.flatMap((c) => fs.readdirSync(path.join(PHOTOS, c)).filter((f) => f.endsWith('.jpg')).sort().slice(0, 128).map((f) => ({ absPath: path.join(PHOTOS, c, f) })));
(async () => {
  const ex = await loadExtractor({ source: MODEL, engine: 'onnx' });
  const conc = Number(process.env['SHARP_CONC'] ?? 0);
  if (conc) sharp.concurrency(conc);
  const res: string[] = [];
  for (const prefetch of [1, 2, 3, 1, 2, 3]) {
    let t = performance.now();
    for await (const b of imageBatches(items, P, 32, prefetch)) void b;
    const dec = items.length / ((performance.now() - t) / 1000);
    t = performance.now();
    for await (const b of imageBatches(items, P, 32, prefetch)) await ex.extract(b.pixels, b.items.length);
    const whole = items.length / ((performance.now() - t) / 1000);
    res.push(`prefetch ${prefetch}: decode ${dec.toFixed(0)} whole ${whole.toFixed(0)}`);
  }
  console.log(`UV=${process.env['UV_THREADPOOL_SIZE'] ?? 4} sharp.concurrency=${sharp.concurrency()} load=${require('os').loadavg()[0].toFixed(2)}\n  ${res.join('\n  ')}`);
  ex.dispose();
})();

/** Test helper for the ONNX specs: the wasm tfjs backend (the reference), ONNX Runtime, and a temporary folder. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { initBackend } from '../backend';
import { loadOnnxRuntime } from '../onnx/extractor';

export interface OnnxTestbed {
  readonly ort: typeof Ort;
  /** Made before all tests of the file, removed after them. */
  readonly tmp: string;
}

/** Registers the set-up (beforeAll) and clean-up (afterAll) of one spec file. */
export function useOnnxTestbed(prefix: string): OnnxTestbed {
  let ort: typeof Ort | undefined;
  let tmp = '';
  beforeAll(async () => {
    await initBackend('wasm');
    ort = loadOnnxRuntime();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  return {
    get ort(): typeof Ort {
      if (!ort) throw new Error('the ONNX testbed is set up in beforeAll');
      return ort;
    },
    get tmp(): string {
      return tmp;
    },
  };
}

// Node test environment whose typed-array constructors are the host realm's. Native addons
// (onnxruntime-node) create Float32Arrays in the host realm and check `instanceof Float32Array`
// against the sandbox's constructor, which fails under Jest's default per-file realm
// ("A float32 tensor's data must be type of function Float32Array()").
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) if (globalThis[name]) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;

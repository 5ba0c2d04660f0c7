/**
 * What the CPU offers ONNX Runtime's integer kernels (MLAS). ORT does not report which kernels it
 * picked, but MLAS dispatches on the CPU feature flags, which Linux lists in /proc/cpuinfo.
 */
import * as fs from 'node:fs';

let flags: Set<string> | undefined;

/** CPU feature flags (Linux /proc/cpuinfo); empty where they cannot be read. */
export function cpuFlags(): ReadonlySet<string> {
  if (!flags) {
    try {
      const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
      flags = new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
    } catch {
      flags = new Set();
    }
  }
  return flags;
}

/** True when the CPU has 8-bit dot-product instructions (AVX512-VNNI or AVX-VNNI). */
export function hasVnni(f: ReadonlySet<string> = cpuFlags()): boolean {
  return f.has('avx512_vnni') || f.has('avx_vnni');
}

/**
 * How uint8 TFLite weights are stored in the int8 ONNX graph. With VNNI, MLAS's fastest kernels
 * multiply uint8 activations by int8 weights exactly, so the weights are shifted to int8 (q - 128,
 * zero point - 128: the same real values, the same integer sums). Without VNNI the uint8 x int8
 * AVX2 kernel can saturate 16-bit intermediate sums, while uint8 x uint8 is exact, so they stay uint8.
 */
export function int8WeightEncoding(f: ReadonlySet<string> = cpuFlags()): 'uint8' | 'int8' {
  return hasVnni(f) ? 'int8' : 'uint8';
}

/** The instruction set MLAS most likely runs int8 matrix products with, judged from the flags. */
export function int8KernelIsa(f: ReadonlySet<string> = cpuFlags()): string {
  if (f.has('amx_int8')) return 'AMX-INT8 (amx_int8)';
  if (f.has('avx512_vnni')) return 'AVX512-VNNI (avx512_vnni)';
  if (f.has('avx_vnni')) return 'AVX-VNNI (avx_vnni)';
  if (f.has('avx512bw')) return 'AVX512BW (no VNNI)';
  if (f.has('avx2')) return 'AVX2 (no VNNI)';
  if (f.has('asimddp')) return 'ARM NEON dot product (asimddp)';
  return f.size ? 'generic (no AVX2, VNNI or dot-product flags)' : 'unknown (no /proc/cpuinfo)';
}

import * as tf from '@tensorflow/tfjs';
import { currentBackend, initBackend } from './backend';
import { BackendUnavailableError } from './errors';

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it('initialises wasm once and returns the same info again', async () => {
    const info = await initBackend('wasm');
    expect(info).toEqual({ engine: 'tfjs', backend: 'wasm', engineVersion: tf.version_core, nodeBindings: false, threads: expect.any(Number) });
    expect(tf.getBackend()).toBe('wasm');
    expect(await initBackend('wasm')).toBe(info);
    expect(await initBackend('auto')).toBe(info); // auto keeps whatever is initialised
    expect(currentBackend()).toBe(info);
  });

  it('shares one initialisation between concurrent callers', async () => {
    const [a, b] = await Promise.all([initBackend('cpu'), initBackend('cpu')]);
    expect(a).toBe(b);
    expect(a.backend).toBe('cpu');
    expect((await initBackend('wasm')).backend).toBe('wasm');
  });

  const maybe = tfjsNodeInstalled() ? it.skip : it;
  maybe('explains how to install tfjs-node when it is missing, keeping the current backend', async () => {
    const before = await initBackend('wasm');
    const err = await initBackend('tfjs-node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toContain('npm install @tensorflow/tfjs-node');
    expect(currentBackend()).toBe(before);
    expect(tf.getBackend()).toBe('wasm');
  });
});

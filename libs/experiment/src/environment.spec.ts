import { captureEnvironment } from './environment';

describe('captureEnvironment', () => {
  it('records git state, runtime and the versions of the libraries that shape results', () => {
    const env = captureEnvironment(__dirname, { 'tfjs.backend': 'wasm' });
    expect(env['git.commit']).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(['true', 'false', 'unknown']).toContain(env['git.dirty']);
    expect(env['node.version']).toBe(process.version);
    expect(env['package.sharp']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env['package.@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env['tfjs.backend']).toBe('wasm');
  });

  it('says "unknown" outside a git checkout instead of failing', () => {
    expect(captureEnvironment('/')['git.commit']).toBe('unknown');
  });
});

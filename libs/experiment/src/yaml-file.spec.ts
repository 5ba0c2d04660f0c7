/** Hostile config text is refused with a ConfigError before (or instead of) being parsed. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from './index';
import { loadConfig } from './config';
import { MAX_CONFIG_DEPTH, readYamlFile, yamlNestingDepth } from './yaml-file';
import { configErrorOf } from './testing';

const file = '/exp/experiments/test.yaml';
const valid = `
name: bounds
seed: 1
dataset:
  path: data
preprocess:
  size: [32, 32]
model:
  extractor: none
train:
  learningRate: 0.001
  epochs: 1
  batchSize: 4
`;

const problemOf = (yaml: string): string => configErrorOf(() => parseConfig(yaml, file, {}));

describe('config text bounds', () => {
  it('measures nesting from tokens: real configs are shallow, brackets in strings and comments do not count', () => {
    expect(yamlNestingDepth(valid)).toBe(3);
    expect(yamlNestingDepth('a: "[[[[" # {{{{\nb: |\n  [[[[\n')).toBe(2); // a key and its value
    expect(yamlNestingDepth('- - - x')).toBe(4);
    expect(yamlNestingDepth('a: {b: [1, [2]]}')).toBe(4);
  });

  it('refuses 100k-deep flow nesting before parsing', () => {
    expect(problemOf(`${valid}description: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)).toMatch(
      new RegExp(`test\\.yaml: nested 100001 levels deep, over the limit of ${MAX_CONFIG_DEPTH}`),
    );
    expect(problemOf(`${valid}description:\n  ${'- '.repeat(30_000)}x\n`)).toMatch(/nested 30002 levels deep/);
  });

  it('refuses an alias bomb with a message, not a ReferenceError', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`)].join('\n');
    expect(problemOf(`${valid}description:\n  ${bomb.replace(/\n/g, '\n  ')}\n`)).toMatch(/YAML aliases \(\*name\) expand to too much data/);
  });

  it('accepts a few aliases', () => {
    const text = valid.replace('seed: 1', 'seed: &s 1\ndescription: &d "x"').replace('epochs: 1', 'epochs: *s');
    expect(parseConfig(text, file, {}).config.train.epochs).toBe(1);
  });

  it('refuses text over 1 MiB', () => {
    expect(problemOf(`${valid}# ${'x'.repeat(1024 * 1024)}\n`)).toMatch(/test\.yaml is \d+ bytes, over the config limit of 1048576 bytes/);
  });

  it('refuses a config file that is a link to /dev/zero, a folder, or over 1 MiB, without reading it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'config-bounds-'));
    try {
      await fs.symlink('/dev/zero', path.join(dir, 'zero.yaml'));
      await expect(loadConfig(path.join(dir, 'zero.yaml'))).rejects.toThrow(/zero\.yaml is a character device \(such as \/dev\/zero\), not a regular file/);
      await expect(readYamlFile(dir, 'config file')).rejects.toThrow(/is a folder, not a regular file/);
      await fs.writeFile(path.join(dir, 'big.yaml'), Buffer.alloc(2 * 1024 * 1024, 0x20));
      await expect(loadConfig(path.join(dir, 'big.yaml'))).rejects.toThrow(/big\.yaml is 2097152 bytes, over the config file limit of 1048576 bytes/);
      await expect(loadConfig(path.join(dir, 'missing.yaml'))).rejects.toThrow(/config file .*missing\.yaml does not exist/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('values as written', () => {
  it.each([
    ['.nan', /train\.learningRate: expected a positive number, got \.nan$/],
    ['.inf', /train\.learningRate: expected a positive number, got \.inf$/],
    ['-.inf', /train\.learningRate: expected a positive number, got -\.inf$/],
  ])('says %s, not null', (written, message) => {
    expect(problemOf(valid.replace('learningRate: 0.001', `learningRate: ${written}`))).toMatch(message);
  });

  it('keeps .nan inside a list as written', () => {
    expect(problemOf(valid.replace('size: [32, 32]', 'size: [.nan, 32]'))).toMatch(/preprocess\.size\.\[?0\]?: expected a positive integer up to 4096, got \.nan|preprocess\.size\[0\].*got \.nan/);
  });

  it('bounds preprocess.size', () => {
    expect(problemOf(valid.replace('size: [32, 32]', 'size: [20000, 20000]'))).toMatch(/preprocess\.size\[0\]: expected a positive integer up to 4096, got 20000/);
  });
});

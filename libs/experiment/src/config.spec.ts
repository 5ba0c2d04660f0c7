import * as path from 'node:path';
import { flattenConfig, parseConfig, parseExperiment } from './config';
import { configErrorOf } from './testing';

const file = '/exp/experiments/test.yaml';
const valid = `
name: flowers-test
seed: 42
dataset:
  path: ../data/flowers
preprocess:
  size: [224, 224]
model:
  extractor:
    source: ../models/m.tflite
train:
  learningRate: 0.001
  epochs: 10
  batchSize: 32
`;

const problemOf = (yaml: string, env: NodeJS.ProcessEnv = {}): string => configErrorOf(() => parseConfig(yaml, file, env));

describe('parseConfig', () => {
  it('fills defaults and resolves paths relative to the config file', () => {
    const { config, resolved, hash } = parseConfig(valid, file, {});
    expect(config.dataset.split).toEqual({ train: 0.7, val: 0.1, test: 0.2 });
    expect(config.model.head).toEqual({ type: 'softmax', dropout: 0, l2: 0 });
    expect(config.train.optimizer).toBe('adam');
    expect(config.dataset.path).toBe('../data/flowers');
    expect(resolved.dataset.path).toBe(path.resolve('/exp/data/flowers'));
    expect((resolved.model.extractor as { source: string }).source).toBe(path.resolve('/exp/models/m.tflite'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes content, not key order or the file location', () => {
    const reordered = valid.replace('name: flowers-test\nseed: 42', 'seed: 42\nname: flowers-test');
    expect(parseConfig(reordered, '/elsewhere/x.yaml', {}).hash).toBe(parseConfig(valid, file, {}).hash);
    expect(parseConfig(valid.replace('seed: 42', 'seed: 43'), file, {}).hash).not.toBe(parseConfig(valid, file, {}).hash);
  });

  it('takes model.extractor.precision float32 | int8, absent by default so existing config hashes stay', () => {
    const withPrecision = (p: string): string => valid.replace('    source: ../models/m.tflite', `    source: ../models/m.tflite\n    precision: ${p}`);
    const plain = parseConfig(valid, file, {});
    expect(plain.config.model.extractor).not.toHaveProperty('precision');
    const int8 = parseConfig(withPrecision('int8'), file, {});
    expect((int8.config.model.extractor as { precision?: string }).precision).toBe('int8');
    expect(int8.hash).not.toBe(plain.hash);
    expect(problemOf(withPrecision('int4'))).toContain('model.extractor.precision');
  });

  it('keeps URLs as URLs', () => {
    const { resolved } = parseConfig(valid.replace('../models/m.tflite', 'https://example.org/m/model.json'), file, {});
    expect((resolved.model.extractor as { source: string }).source).toBe('https://example.org/m/model.json');
  });

  it('names the field and the expected type', () => {
    expect(problemOf(valid.replace('epochs: 10', 'epochs: ten'))).toContain('train.epochs: expected a positive integer, got "ten"');
    expect(problemOf(valid.replace('epochs: 10', 'epochs: 0'))).toContain('train.epochs: expected a positive integer, got 0');
    expect(problemOf(valid.replace('size: [224, 224]', 'size: [224]'))).toContain('preprocess.size');
  });

  it('reports missing required fields', () => {
    expect(problemOf(valid.replace('seed: 42\n', ''))).toContain('seed: missing; expected an integer');
  });

  it('rejects unknown keys with a suggestion', () => {
    const message = problemOf(valid.replace('  epochs: 10', '  epoch: 10\n  epochs: 10'));
    expect(message).toContain('train.epoch: unknown key (did you mean "epochs"?)');
  });

  it('rejects split fractions that do not sum to 1', () => {
    const message = problemOf(valid.replace('  path: ../data/flowers', '  path: ../data/flowers\n  split: {train: 0.5, val: 0.1, test: 0.2}'));
    expect(message).toContain('dataset.split: expected train + val + test to sum to 1');
  });

  it('gives line and column for YAML syntax errors', () => {
    const message = problemOf(valid.replace('seed: 42', 'seed: [42'));
    expect(message).toMatch(/line \d+, column \d+/);
  });

  it('substitutes environment variables, with defaults', () => {
    const yaml = valid.replace('../data/flowers', '${DATA_ROOT}/flowers').replace('../models/m.tflite', '${MODEL:-/m/default.tflite}');
    const { resolved } = parseConfig(yaml, file, { DATA_ROOT: '/data' });
    expect(resolved.dataset.path).toBe(path.resolve('/data/flowers'));
    expect((resolved.model.extractor as { source: string }).source).toBe(path.resolve('/m/default.tflite'));
    expect(problemOf(yaml, {})).toContain('dataset.path: environment variable DATA_ROOT is not set');
  });
});

describe('flattenConfig', () => {
  it('turns nested keys into dotted params', () => {
    expect(flattenConfig({ a: { b: 1, c: 'x' }, d: [1, 2] })).toEqual([
      ['a.b', '1'],
      ['a.c', 'x'],
      ['d', '[1,2]'],
    ]);
  });
});

describe('parseExperiment with a sweep', () => {
  const swept = `${valid}sweep:\n  train.learningRate: [0.001, 0.01]\n  seed: [1, 2, 3]\n`;

  it('expands the grid into validated runs, each with its own hash', () => {
    const plan = parseExperiment(swept, file, {});
    expect(plan.sweep).toEqual({ 'train.learningRate': [0.001, 0.01], seed: [1, 2, 3] });
    expect(plan.runs).toHaveLength(6);
    expect(plan.runs.map((r) => [r.config.train.learningRate, r.config.seed])).toEqual([
      [0.001, 1], [0.001, 2], [0.001, 3], [0.01, 1], [0.01, 2], [0.01, 3],
    ]);
    expect(new Set(plan.runs.map((r) => r.hash)).size).toBe(6);
    expect(plan.runs[0].resolved.dataset.path).toBe(path.resolve('/exp/data/flowers'));
  });

  it('names the sweep point whose values do not validate', () => {
    expect(() => parseExperiment(`${valid}sweep:\n  train.epochs: [5, -1]\n`, file, {})).toThrow(
      /sweep point 2 of 2 \(train\.epochs=-1\): train\.epochs: expected a positive integer, got -1/,
    );
  });

  it('rejects sweep keys that are not in the config', () => {
    expect(() => parseExperiment(`${valid}sweep:\n  trian.epochs: [5]\n`, file, {})).toThrow(/the config has no "trian"/);
    expect(() => parseExperiment(`${valid}sweep:\n  train.epoch: [5]\n`, file, {})).toThrow(/train\.epoch: unknown key \(did you mean "epochs"\?\)/);
    expect(() => parseExperiment(`${valid}sweep:\n  seed: []\n`, file, {})).toThrow(/sweep\.seed: expected at least one value/);
  });

  it('is refused by parseConfig, which runs exactly one config', () => {
    expect(() => parseConfig(swept, file, {})).toThrow(/contains a sweep of 6 runs/);
  });
});

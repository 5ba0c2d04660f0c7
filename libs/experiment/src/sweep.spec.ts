import { ConfigError } from './errors';
import { describePoint, expandGrid, setDotted } from './sweep';

describe('expandGrid', () => {
  it('takes the cartesian product, last key fastest', () => {
    expect(expandGrid({ 'train.learningRate': [0.001, 0.003], seed: [1, 2] })).toEqual([
      { 'train.learningRate': 0.001, seed: 1 },
      { 'train.learningRate': 0.001, seed: 2 },
      { 'train.learningRate': 0.003, seed: 1 },
      { 'train.learningRate': 0.003, seed: 2 },
    ]);
  });
  it('gives 5 x 2 = 10 points for the acceptance sweep', () => {
    expect(expandGrid({ seed: [1, 2, 3, 4, 5], 'train.learningRate': [0.001, 0.003] })).toHaveLength(10);
  });
});

describe('setDotted', () => {
  const config = { seed: 1, train: { learningRate: 0.1, epochs: 3 } };
  it('sets a nested value without touching the original', () => {
    expect(setDotted(config, 'train.learningRate', 0.5, 'x.yaml')).toEqual({ seed: 1, train: { learningRate: 0.5, epochs: 3 } });
    expect(config.train.learningRate).toBe(0.1);
  });
  it('refuses a path through a missing section', () => {
    expect(() => setDotted(config, 'trian.learningRate', 0.5, 'x.yaml')).toThrow(ConfigError);
    expect(() => setDotted(config, 'trian.learningRate', 0.5, 'x.yaml')).toThrow(/sweep\.trian\.learningRate: the config has no "trian"/);
  });
});

describe('describePoint', () => {
  it('labels a point', () => {
    expect(describePoint({ 'train.learningRate': 0.001, seed: 3 })).toBe('train.learningRate=0.001 seed=3');
  });
});

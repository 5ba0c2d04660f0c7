import { parseConfig, parseExperiment } from './config';
import { pairingProblems } from './study';
import { isStudyText, parseStudyDefinition } from './study-definition';
import { configErrorOf } from './testing';

const file = '/exp/experiments/study.yaml';
const arm = (extra: string, sweep = 'seed: [1, 2]'): string => `
name: arm
seed: 1
dataset:
  path: ../data
preprocess:
  size: [32, 32]
${extra}
train:
  learningRate: 0.001
  epochs: 2
  batchSize: 8
sweep:
  ${sweep}
`;
const pixels = 'model:\n  extractor: none\n';
const cnn = 'model:\n  extractor: none\n  head:\n    type: cnn\n    blocks: [{ filters: 16 }, { filters: 32, kernel: 5 }]\n    dense: 64\n    dropout: 0.3\n';

const problemOf = configErrorOf;

describe('model.extractor: none and head type cnn', () => {
  it('accepts the pixel floor and a declared CNN, defaults filled', () => {
    const floor = parseExperiment(arm(pixels), file, {}).runs[0];
    expect(floor.resolved.model).toEqual({ extractor: 'none', head: { type: 'softmax', dropout: 0, l2: 0 } });
    const net = parseExperiment(arm(cnn), file, {}).runs[0];
    expect(net.config.model.head).toEqual({ type: 'cnn', blocks: [{ filters: 16, kernel: 3 }, { filters: 32, kernel: 5 }], dense: 64, dropout: 0.3 });
  });

  it('names the field when a CNN head is wrong or has a frozen extractor', () => {
    expect(problemOf(() => parseExperiment(arm(cnn.replace('kernel: 5', 'kernel: 4')), file, {}))).toContain('model.head.blocks[1].kernel: expected an odd positive integer, got 4');
    expect(problemOf(() => parseExperiment(arm(cnn.replace('dense: 64', 'dens: 64')), file, {}))).toContain('model.head.dens: unknown key (did you mean "dense"?)');
    expect(problemOf(() => parseExperiment(arm(cnn.replace('extractor: none', 'extractor: { source: m.tflite }')), file, {}))).toContain(
      'model.head.type: expected model.extractor: none with head type "cnn"',
    );
    expect(problemOf(() => parseExperiment(arm('model:\n  extractor: nothing\n'), file, {}))).toContain('model.extractor: expected "none" or a mapping with source');
    expect(problemOf(() => parseExperiment(arm('model:\n  extractor: { source: m.tflite, batchsize: 3 }\n'), file, {}))).toContain('model.extractor.batchsize: unknown key (did you mean "batchSize"?)');
  });

  it('keeps the hash of configs with a frozen extractor (the canonical runs stay comparable)', () => {
    const yaml = arm('model:\n  extractor:\n    source: m.tflite\n').replace(/sweep:\n.*\n/, '');
    const { config, hash } = parseConfig(yaml, file, {});
    expect(config.model.extractor).toEqual({ source: 'm.tflite', featureLayer: 'auto', batchSize: 32, backend: 'auto', engine: 'auto' });
    expect(hash).toBe(parseConfig(yaml.replace('name: arm\nseed: 1', 'seed: 1\nname: arm'), '/x.yaml', {}).hash);
  });
});

const studyText = `
study:
  name: tiny-study
  question: Does it work?
  arms:
    - { label: frozen, config: a.yaml }
    - { label: pixels, config: b.yaml }
`;

describe('study files', () => {
  it('are told apart from experiment configs by their top-level study key', () => {
    expect(isStudyText(studyText)).toBe(true);
    expect(isStudyText(arm(pixels))).toBe(false);
    expect(isStudyText('study: [unclosed')).toBe(false);
  });

  it('validate name, question and arms with the field named', () => {
    expect(parseStudyDefinition(studyText, file)).toEqual({ name: 'tiny-study', question: 'Does it work?', arms: [{ label: 'frozen', config: 'a.yaml' }, { label: 'pixels', config: 'b.yaml' }] });
    expect(problemOf(() => parseStudyDefinition(studyText.replace('    - { label: pixels, config: b.yaml }\n', ''), file))).toBe(`${file}: study.arms: expected at least two arms (a study compares)`);
    expect(problemOf(() => parseStudyDefinition(studyText.replace('config: b.yaml', 'cfg: b.yaml'), file))).toContain('study.arms[1]: unknown key "cfg"');
    expect(problemOf(() => parseStudyDefinition(studyText.replace('label: pixels', 'label: frozen'), file))).toContain('the label "frozen" is used twice');
    expect(problemOf(() => parseStudyDefinition(studyText.replace('  question: Does it work?\n', ''), file))).toContain('study.question: expected the question the study answers');
  });

  it('require paired arms: same seeds, dataset and split fractions', () => {
    const a = { label: 'A', plan: parseExperiment(arm(pixels), '/exp/a.yaml', {}) };
    expect(pairingProblems([a, { label: 'B', plan: parseExperiment(arm(cnn), '/exp/b.yaml', {}) }])).toEqual([]);
    expect(pairingProblems([a, { label: 'B', plan: parseExperiment(arm(cnn, 'seed: [1, 3]'), '/exp/b.yaml', {}) }])).toEqual([
      'arm "B" sweeps seeds [1,3], arm "A" [1,2]: use the same seeds in every arm so the splits are paired',
    ]);
    expect(pairingProblems([a, { label: 'C', plan: parseExperiment(arm(cnn, 'train.epochs: [1, 2]'), '/exp/c.yaml', {}) }])).toEqual([
      'arm "C" (/exp/c.yaml) does not sweep the seed; add seed: [...] to its sweep so the arms are paired',
      'arm "C" sweeps seeds null, arm "A" [1,2]: use the same seeds in every arm so the splits are paired',
    ]);
  });
});

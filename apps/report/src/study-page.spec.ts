import { verdictMetrics } from '@mlbench/experiment/results';
import type { Study } from '@mlbench/tracking';
import { buildStudyPage, describeArm, findExtraction, type StudyArmData, type StudyData, type StudyRun } from './study-page';
import { fakeRunData } from './testing/fixtures';

const classes = ['daisy', 'roses', 'tulips'];
const study: Study = {
  id: 'f'.repeat(32),
  name: 'tiny',
  question: 'Which arm wins?',
  status: 'completed',
  startTime: '2026-01-01T00:00:00.000Z',
  endTime: '2026-01-01T00:10:00.000Z',
  configHash: 'h',
  configText: 'study:\n  name: tiny\n  question: Which arm wins?\n  description: Two arms.\n  arms:\n    - { label: A, config: a.yaml }\n    - { label: B, config: b.yaml }\n',
};

/** An arm whose runs make a mistake on every `wrongEvery`-th test image, with the given metrics. */
function arm(position: number, label: string, wrongEvery: number, params: Record<string, string>, extra: Record<string, number>): StudyArmData {
  const runs: StudyRun[] = [1, 2, 3].map((seed) => {
    const data = fakeRunData({ id: `${position}${seed}`.padEnd(32, '0'), seed, classes, wrongEvery, perSplit: { test: 4 }, params });
    const test = data.predictions.filter((p) => p.split === 'test');
    return { summary: { ...data, final: { ...data.final, ...extra } }, split: data.split, test, metrics: verdictMetrics(test, classes.length) };
  });
  return { arm: { studyId: study.id, position, label, config: `${label}.yaml`, sweepId: `sweep${position}` }, sweep: null, runs, unverified: [], unfinished: 0 };
}

const frozen = arm(0, 'Frozen', 4, { 'model.extractor.source': '/m/mobilenet.tflite', 'model.head.type': 'softmax', 'preprocess.size': '[224,224]' }, { 'head.parameters': 6405, 'time.extraction_seconds': 60, 'extraction.extracted': 36, 'time.train_seconds': 4 });
const links = { indexHref: '../index.html', runHref: (id: string) => `../runs/${id}.html`, thumbPrefix: '../thumbs/' };

describe('study page model', () => {
  it('tabulates each arm: mean ± std over seeds, parameters, what is frozen and trained, run links', () => {
    const cnn = arm(1, 'CNN', 2, { 'model.extractor': 'none', 'model.head.type': 'cnn', 'model.head.blocks': '[{"filters":16,"kernel":3}]', 'model.head.dense': '64', 'preprocess.size': '[32,32]' }, { 'head.parameters': 89509, 'time.extraction_seconds': 0.5, 'extraction.extracted': 0, 'time.train_seconds': 200 });
    const model = buildStudyPage({ study, arms: [frozen, cnn] }, new Map(), links);
    expect(model.study.wallTime).toBe('10m 00s');
    expect(model.description).toBe('Two arms.');
    // wrongEvery 4 with 4 test images per class: 1 of 4 wrong per class, 75% on every seed.
    expect(model.arms.map((a) => [a.letter, a.accuracy, a.parameters, a.frozen, a.input])).toEqual([
      ['1', '75.00% ± 0.00', '6,405', 'mobilenet (ImageNet weights)', '224x224'],
      ['2', '50.00% ± 0.00', '89,509', 'nothing (raw pixels)', '32x32'],
    ]);
    expect(model.arms[1].trained).toBe('whole CNN from scratch: conv 16, dense 64 (89,509 parameters)');
    expect(model.arms[1].extraction).toBe('cached (0.50s)');
    expect(model.arms[0].runs.map((r) => r.href)).toEqual(['../runs/01000000000000000000000000000000.html', '../runs/02000000000000000000000000000000.html', '../runs/03000000000000000000000000000000.html']);
    // Paired per seed: arm 2 is 25 points worse on each seed's 12 test images.
    expect(model.significance).toHaveLength(1);
    expect(model.significance[0].cells.map((c) => [c.seed, c.difference])).toEqual([
      [1, '−25.0 pp'],
      [2, '−25.0 pp'],
      [3, '−25.0 pp'],
    ]);
    expect(model.significance[0].tone).toBe('worse');
    expect(model.significance[0].acrossSeeds).toBe('−25.00 pp (95% t-interval −25.0 pp to −25.0 pp)');
    expect(model.findings[0]).toBe('Arm 1 (Frozen) reaches 75.00% mean test accuracy over 3 seeds.');
    // One rose per seed is predicted as the next class, tulips: 3 of the 12 test roses over 3 seeds.
    expect(model.confusion?.roseTulip).toBe('Roses and tulips are the pair arm 1 confuses most often: 3 of 12 test roses (25.0%) were called tulips and 0 of 12 tulips (0.0%) roses: 3 of all 9 mistakes (33.3%).');
    expect(model.grid?.tiles).toHaveLength(12);
  });

  it('says so when an arm beats the frozen extractor', () => {
    const better = arm(1, 'Better', 100, { 'model.extractor.source': '/m/other.tflite' }, { 'head.parameters': 10 });
    // Vary arm 1 over seeds so the paired differences have spread and a t-interval above 0.
    const runs = frozen.runs.map((r, i) => {
      const test = r.test.map((p, k) => (k === 0 && i === 0 ? { ...p, predictedLabel: (p.trueLabel + 1) % 3 } : p));
      return { ...r, test, metrics: verdictMetrics(test, classes.length) };
    });
    const model = buildStudyPage({ study, arms: [{ ...frozen, runs }, better] } satisfies StudyData, new Map(), links);
    expect(model.significance[0].tone).toBe('better');
    expect(model.findings[1]).toMatch(/^Arm 2 \(Better\) BEATS the frozen extractor of arm 1: 100\.00%/);
  });

  it('describes a softmax arm over pixels', () => {
    expect(describeArm({ 'model.extractor': 'none', 'preprocess.size': '[32,32]' }, 15365)).toEqual({ frozen: 'nothing (raw pixels)', trained: 'softmax layer (15,365 parameters)', input: '32x32' });
  });
});

describe('findExtraction', () => {
  it('finds the run that extracted the features an all-cached arm read, by extractor identity', () => {
    const extractor = { sha256: 'abc', featureLayer: 'pool', engine: 'onnx', backend: 'cpu', preprocess: '{}' };
    const cachedRun = fakeRunData({ id: 'a'.repeat(32) });
    const cached: StudyRun = { summary: { ...cachedRun, extractor, final: { ...cachedRun.final, 'extraction.extracted': 0 } }, split: [], test: [], metrics: verdictMetrics([], classes.length) };
    const extracting = fakeRunData({ id: 'b'.repeat(32) });
    const other = fakeRunData({ id: 'c'.repeat(32) });
    const all = new Map([
      [extracting.run.id, { ...extracting, extractor, final: { ...extracting.final, 'extraction.extracted': 3670, 'extraction.cached': 0, 'time.extraction_seconds': 190 } }],
      [other.run.id, { ...other, extractor: { ...extractor, engine: 'tfjs' }, final: { ...other.final, 'extraction.extracted': 3670, 'extraction.cached': 0, 'time.extraction_seconds': 900 } }],
    ]);
    expect(findExtraction([cached], all)).toEqual({ runId: extracting.run.id, seconds: 190 });
    expect(findExtraction([{ ...cached, summary: { ...cached.summary, final: { 'extraction.extracted': 5 } } }], all)).toBeNull();
  });
});

import { ConfigError } from './errors';
import { evaluateGate, parseGateRule } from './gate';

describe('parseGateRule', () => {
  it('reads absolute and relative bounds', () => {
    expect(parseGateRule('min', 'test.accuracy=0.87')).toEqual({ metric: 'test.accuracy', kind: 'min', value: 0.87, relative: false });
    expect(parseGateRule('max-drop', 'test.macro_f1=2%')).toEqual({ metric: 'test.macro_f1', kind: 'max-drop', value: 0.02, relative: true });
  });
  it('explains malformed rules', () => {
    expect(() => parseGateRule('min', 'test.accuracy>0.87')).toThrow(ConfigError);
    expect(() => parseGateRule('min', 'test.accuracy=87%')).toThrow(/only makes sense relative to a baseline/);
  });
});

describe('evaluateGate', () => {
  const run = { 'test.accuracy': 0.88, 'test.log_loss': 0.35 };
  it('passes thresholds that hold and fails those that do not', () => {
    const ok = evaluateGate(run, [parseGateRule('min', 'test.accuracy=0.87'), parseGateRule('max', 'test.log_loss=0.4')], null);
    expect(ok.pass).toBe(true);
    const bad = evaluateGate(run, [parseGateRule('min', 'test.accuracy=0.9')], null);
    expect(bad.pass).toBe(false);
    expect(bad.verdicts[0].reason).toBe('0.8800 violates >= 0.9000');
  });
  it('compares against a baseline with absolute and relative tolerances', () => {
    const baseline = { 'test.accuracy': 0.895 };
    expect(evaluateGate(run, [parseGateRule('max-drop', 'test.accuracy=0.01')], baseline).pass).toBe(false); // 0.88 < 0.885
    expect(evaluateGate(run, [parseGateRule('max-drop', 'test.accuracy=0.02')], baseline).pass).toBe(true); // 0.88 >= 0.875
    expect(evaluateGate(run, [parseGateRule('max-drop', 'test.accuracy=2%')], baseline).verdicts[0].limit).toBeCloseTo(0.8771, 6);
  });
  it('fails when the metric or the baseline is missing', () => {
    expect(evaluateGate(run, [parseGateRule('min', 'val.accuracy=0.5')], null).verdicts[0].reason).toBe('run has no metric val.accuracy');
    expect(evaluateGate(run, [parseGateRule('max-drop', 'test.accuracy=0.01')], null).verdicts[0].reason).toMatch(/needs --baseline/);
  });
});

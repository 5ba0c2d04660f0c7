import { DatasetError } from '@mlbench/data';
import { AuditError, CacheWriteError, ConfigError } from '@mlbench/experiment';
import { MetricsInputError } from '@mlbench/metrics';
import { HeadOptionsError, UnsupportedOperatorError } from '@mlbench/model';
import { EXIT, reportError, type CliIo } from './io';

function report(error: unknown): { code: number; lines: string[] } {
  const lines: string[] = [];
  const io: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(l), isTty: false };
  return { code: reportError(error, io), lines };
}

describe('reportError', () => {
  it.each([
    ['ConfigError', new ConfigError('run.yaml: train.epochs: expected a positive integer', 'run.yaml')],
    ['DatasetError', new DatasetError('class "a" has 1 image(s)', 'a')],
    ['UnsupportedOperatorError', new UnsupportedOperatorError('m.tflite: operator #3 L2_NORMALIZATION is not supported', 'm.tflite', 'L2_NORMALIZATION')],
    ['HeadOptionsError', new HeadOptionsError('invalid softmax head options: dropout must be in [0, 1), got 1.5')],
    ['AuditError', new AuditError('audit.folds: 5 folds need at least 5 images, the dataset has 3; lower audit.folds')],
    ['MetricsInputError', new MetricsInputError('accuracy of zero samples is undefined')],
  ])('%s is bad input: exit 2, one line with the message and no stack', (_name, error) => {
    const { code, lines } = report(error);
    expect(code).toBe(EXIT.badInput);
    expect(lines).toEqual([`error: ${error.message}`]);
  });

  it('a cache write failure is a failed run with its message; an unknown error keeps its stack', () => {
    expect(report(new CacheWriteError('/c/x.bin', 'ENOSPC')).code).toBe(EXIT.failed);
    const bug = report(new TypeError('x is undefined'));
    expect(bug.code).toBe(EXIT.failed);
    expect(bug.lines[0]).toMatch(/^run failed: TypeError: x is undefined\n\s+at /);
  });
});

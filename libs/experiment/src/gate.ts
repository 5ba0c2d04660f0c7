import { ConfigError } from './errors';

/** One check of a gate. `max-drop`/`max-rise` compare against a baseline run. */
export interface GateRule {
  metric: string;
  kind: 'min' | 'max' | 'max-drop' | 'max-rise';
  /** The bound; for relative rules a fraction of the baseline (1% -> 0.01). */
  value: number;
  relative: boolean;
}

export interface GateVerdict {
  rule: GateRule;
  /** The checked run's value; null when the run lacks the metric (a failure). */
  actual: number | null;
  baseline: number | null;
  /** The bound the value was held to, after applying the baseline. */
  limit: number | null;
  pass: boolean;
  reason: string;
}

/**
 * Parses `metric=value` (or `metric=value%` for the relative drop/rise rules), e.g.
 * `--min test.accuracy=0.87`, `--max-drop test.accuracy=0.01`, `--max-drop test.macro_f1=2%`.
 */
export function parseGateRule(kind: GateRule['kind'], text: string): GateRule {
  const match = /^([A-Za-z0-9_.-]+)=(-?\d+(?:\.\d+)?(?:e-?\d+)?)(%?)$/.exec(text.trim());
  if (!match) {
    throw new ConfigError(`--${kind} ${text}: expected metric=number, e.g. --${kind} test.accuracy=0.01`, '(command line)');
  }
  const [, metric, number, percent] = match;
  if (percent && (kind === 'min' || kind === 'max')) {
    throw new ConfigError(`--${kind} ${text}: a percentage only makes sense relative to a baseline (--max-drop/--max-rise)`, '(command line)');
  }
  return { metric, kind, value: percent ? Number(number) / 100 : Number(number), relative: Boolean(percent) };
}

/** Checks a run's final metrics against rules; baseline rules need the baseline's metrics. */
export function evaluateGate(
  metrics: Readonly<Record<string, number>>,
  rules: readonly GateRule[],
  baseline: Readonly<Record<string, number>> | null,
): { pass: boolean; verdicts: GateVerdict[] } {
  const verdicts = rules.map((rule): GateVerdict => {
    const actual = metrics[rule.metric] ?? null;
    const base = baseline?.[rule.metric] ?? null;
    const fail = (reason: string, limit: number | null = null): GateVerdict => ({ rule, actual, baseline: base, limit, pass: false, reason });
    if (actual === null) return fail(`run has no metric ${rule.metric}`);
    let limit: number;
    switch (rule.kind) {
      case 'min':
        limit = rule.value;
        break;
      case 'max':
        limit = rule.value;
        break;
      case 'max-drop':
      case 'max-rise': {
        if (base === null) return fail(baseline ? `baseline has no metric ${rule.metric}` : `--${rule.kind} needs --baseline <runId>`);
        const allowance = rule.relative ? Math.abs(base) * rule.value : rule.value;
        limit = rule.kind === 'max-drop' ? base - allowance : base + allowance;
        break;
      }
    }
    const lowerBound = rule.kind === 'min' || rule.kind === 'max-drop';
    // A tiny epsilon so a value equal to its bound passes despite float rounding of the arithmetic above.
    const pass = lowerBound ? actual >= limit - 1e-12 : actual <= limit + 1e-12;
    const relation = lowerBound ? '>=' : '<=';
    return { rule, actual, baseline: base, limit, pass, reason: `${actual.toFixed(4)} ${pass ? relation : `violates ${relation}`} ${limit.toFixed(4)}` };
  });
  return { pass: verdicts.every((v) => v.pass), verdicts };
}

import { maxOf } from '@mlbench/common';
import { ConfigError, gateRun, gateSeedGroups, parseGateRule, VERDICT_METRICS, type GateRule, type VerdictMetric } from '@mlbench/experiment';
import { formatEvent, formatSweepEvent } from '../format';
import { formatVerdict, type VerdictFormat } from '../gate-verdict-format';
import { EXIT, reportError, type CliIo } from '../io';

export interface GateArgs {
  runId?: string;
  config?: string;
  baseline?: string;
  min: string[];
  max: string[];
  maxDrop: string[];
  maxRise: string[];
  db: string;
  cacheDir: string;
  /** Seed-group gate: a baseline reference file or sweep, a candidate sweep, seeds and the test. */
  reference?: string;
  baselineSweep?: string;
  candidateSweep?: string;
  seeds?: string;
  margin?: string;
  alpha?: number;
  minSeeds?: number;
  metric?: string;
  decideBy?: string;
  format?: string;
}

const fmt = (x: number | null): string => (x === null ? '-' : x.toFixed(4));

/** `runner gate`: prints a verdict table; exit 0 when every rule holds, 1 on regression, 2 on bad input. */
export async function gateCommand(args: GateArgs, io: CliIo): Promise<number> {
  if (args.reference || args.baselineSweep || args.candidateSweep) return seedGateCommand(args, io);
  try {
    const rules: GateRule[] = [
      ...args.min.map((r) => parseGateRule('min', r)),
      ...args.max.map((r) => parseGateRule('max', r)),
      ...args.maxDrop.map((r) => parseGateRule('max-drop', r)),
      ...args.maxRise.map((r) => parseGateRule('max-rise', r)),
    ];
    const result = await gateRun({ runId: args.runId, configFile: args.config, baselineRunId: args.baseline }, rules, { dbPath: args.db, cacheDir: args.cacheDir });
    io.out(`gate for run ${result.runId}${result.baselineRunId ? ` against baseline ${result.baselineRunId}` : ''}`);
    const rows = result.verdicts.map((v) => [
      v.pass ? 'PASS' : 'FAIL',
      v.rule.metric,
      `${v.rule.kind} ${v.rule.relative ? `${(100 * v.rule.value).toFixed(2)}%` : v.rule.value}`,
      fmt(v.actual),
      fmt(v.baseline),
      fmt(v.limit),
      v.reason,
    ]);
    const header = ['', 'metric', 'rule', 'value', 'baseline', 'limit', 'verdict'];
    const widths = header.map((h, i) => Math.max(h.length, maxOf(rows.map((r) => r[i].length))));
    for (const row of [header, ...rows]) io.out(`  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd());
    io.out(result.pass ? 'gate passed' : 'gate FAILED: regression');
    return result.pass ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, io);
  }
}

const bad = (message: string): ConfigError => new ConfigError(message, '(command line)');

/** `--margin 0.01`, `--margin 1pt` or `--margin 1pp`: one point of accuracy. */
export function parseMargin(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(pt|pp|points?)?\s*$/.exec(text);
  if (!match) throw bad(`--margin ${text}: expected a fraction (0.01) or points (1pt)`);
  const value = match[2] ? Number(match[1]) / 100 : Number(match[1]);
  if (!(value < 1)) throw bad(`--margin ${text}: a margin is below 1 (= 100 points); did you mean ${text}pt?`);
  return value;
}

export function parseSeeds(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const seeds = parts.map((s) => (/^-?\d+$/.test(s) ? Number(s) : Number.NaN));
  const wrong = parts.find((_, i) => !Number.isSafeInteger(seeds[i]));
  if (wrong !== undefined || seeds.length === 0) throw bad(`--seeds ${text}: expected integers separated by commas, e.g. --seeds 1,2,3`);
  return seeds;
}

async function seedGateCommand(args: GateArgs, io: CliIo): Promise<number> {
  const format = (args.format ?? 'text') as VerdictFormat;
  // With markdown or JSON on stdout, run progress goes to stderr so the verdict can be piped as it is.
  const log = format === 'text' ? io.out : io.err;
  try {
    if (args.runId) throw bad(`gate ${args.runId}: a seed-group gate takes --config <file> or --candidate-sweep <id>, not a run id`);
    if (args.min.length + args.max.length + args.maxDrop.length + args.maxRise.length > 0 || args.baseline) {
      throw bad('gate: --min/--max/--max-drop/--max-rise/--baseline check single runs; a seed-group gate (--reference/--baseline-sweep) uses --margin and --alpha');
    }
    const metric = (args.metric ?? 'test.accuracy') as VerdictMetric;
    if (!VERDICT_METRICS.includes(metric)) throw bad(`--metric ${args.metric}: expected one of ${VERDICT_METRICS.join(', ')} (metrics recomputed from the test predictions)`);
    const decideBy = args.decideBy ?? 'seeds';
    if (decideBy !== 'seeds' && decideBy !== 'images') throw bad(`--decide-by ${decideBy}: expected seeds or images`);
    const verdict = await gateSeedGroups(
      { candidateConfig: args.config, candidateSweep: args.candidateSweep, seeds: args.seeds ? parseSeeds(args.seeds) : undefined, baselineSweep: args.baselineSweep, reference: args.reference },
      { metric, margin: parseMargin(args.margin ?? '0.01'), alpha: args.alpha ?? 0.05, minSeeds: args.minSeeds ?? 3, decideBy },
      {
        dbPath: args.db,
        cacheDir: args.cacheDir,
        onSweepEvent: (event) => log(formatSweepEvent(event)),
        onEvent: (event) => {
          // Per seed only what matters for the verdict's cost and failures; the sweep lines say the rest.
          if (event.type === 'extract-start' || event.type === 'extract-end' || event.type === 'run-failed' || event.type === 'abandoned') {
            const line = formatEvent(event);
            if (line) log(`  ${line}`);
          }
        },
      },
    );
    if (format === 'text') io.out('');
    io.out(formatVerdict(verdict, format));
    return verdict.pass ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, io);
  }
}

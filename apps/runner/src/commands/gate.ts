import { gateRun, parseGateRule, type GateRule } from '@mlbench/experiment';
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
}

const fmt = (x: number | null): string => (x === null ? '-' : x.toFixed(4));

/** `runner gate`: prints a verdict table; exit 0 when every rule holds, 1 on regression. */
export async function gateCommand(args: GateArgs, io: CliIo): Promise<number> {
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
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [header, ...rows]) io.out(`  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd());
    io.out(result.pass ? 'gate passed' : 'gate FAILED: regression');
    return result.pass ? EXIT.ok : EXIT.failed;
  } catch (error) {
    return reportError(error, io);
  }
}

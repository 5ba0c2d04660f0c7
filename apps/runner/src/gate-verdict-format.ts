import { maxOf } from '@mlbench/common';
import { describeTask, formatP, type DecidingTest, type SeedGateResult } from '@mlbench/experiment';

/** How `gate` prints a seed-group verdict: a terminal table, Markdown (PR comments, job summaries) or JSON. */
export type VerdictFormat = 'text' | 'markdown' | 'json';

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const pts = (x: number | null): string => (x === null ? '-' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`);
const testLabel = (t: DecidingTest): string =>
  t.test === 'paired-t' ? 'paired t over seeds' : t.test === 'welch-t' ? 'Welch t over seeds' : 'pooled paired bootstrap over test images';

interface Tables {
  seedHeader: string[];
  seedRows: string[][];
  testHeader: string[];
  testRows: string[][];
}

function tables(v: SeedGateResult): Tables {
  const level = `${Math.round((1 - v.alpha) * 100)}%`;
  const seedRows = v.seeds.map((s) => [String(s.seed), pct(s.candidate), pct(s.baseline), s.difference === null ? (v.paired ? 'not paired' : '-') : pts(s.difference)]);
  const c = v.candidate;
  const b = v.baseline;
  seedRows.push([v.paired ? 'mean (paired seeds)' : 'mean', pct(c.mean), pct(b.mean), pts(v.seedTest.difference)]);
  seedRows.push(['std', pts(c.std).slice(1), pts(b.std).slice(1), '']);
  seedRows.push(['95% CI', c.interval ? `${pct(c.interval.low)}–${pct(c.interval.high)}` : '-', b.interval ? `${pct(b.interval.low)}–${pct(b.interval.high)}` : '-', '']);
  const tests = [v.seedTest, ...(v.imageTest ? [v.imageTest] : [])];
  const testRows = tests.map((t) => [
    `${testLabel(t)}${t.test === v.decidedBy ? ' (decides)' : ''}`,
    pts(t.difference),
    pts(t.lowerBound),
    `> −${(100 * v.margin).toFixed(2)}`,
    formatP(t.pValue),
    t.nonInferior ? 'PASS' : 'FAIL',
  ]);
  return {
    seedHeader: ['seed', `candidate ${v.metric}`, `baseline ${v.metric}`, 'difference (points)'],
    seedRows,
    testHeader: ['test', 'difference', `one-sided ${level} lower bound`, 'needed', 'p-value', 'verdict'],
    testRows,
  };
}

function textTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, maxOf(rows.map((r) => r[i].length))));
  return [header, ...rows].map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i])).join('   ')}`.trimEnd());
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
function markdownTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(mdCell).join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)];
}

function hypothesis(v: SeedGateResult): string {
  return `non-inferiority of the mean ${v.metric} (recomputed from the per-image test predictions): H0 candidate − baseline ≤ −${(100 * v.margin).toFixed(2)} points, one-sided, alpha ${v.alpha}`;
}

export function formatVerdict(v: SeedGateResult, format: VerdictFormat): string {
  if (format === 'json') return JSON.stringify(verdictJson(v), null, 2);
  const t = tables(v);
  if (format === 'markdown') {
    return [
      `### mlbench gate: ${v.pass ? '✅ PASS' : '❌ FAIL'}`,
      '',
      `**${v.summary}**`,
      '',
      `- candidate: ${mdCell(v.candidate.source)} — ${mdCell(v.candidate.name)}, seeds ${v.candidate.seeds.join(', ')}`,
      `- baseline: ${mdCell(v.baseline.source)} — ${mdCell(v.baseline.name)}, seeds ${v.baseline.seeds.join(', ')}`,
      `- task: ${mdCell(describeTask(v.task))}`,
      `- test: ${mdCell(hypothesis(v))}`,
      `- pairing: ${mdCell(v.pairing)}`,
      ...(v.configDifferences.length > 0 ? [`- config changes (baseline vs candidate): ${mdCell(v.configDifferences.join('; '))}`] : []),
      ...v.notes.map((n) => `- note: ${mdCell(n)}`),
      '',
      ...markdownTable(t.seedHeader, t.seedRows),
      '',
      ...markdownTable(t.testHeader, t.testRows),
      '',
    ].join('\n');
  }
  return [
    `gate      candidate ${v.candidate.source} (${v.candidate.name}, seeds ${v.candidate.seeds.join(', ')})`,
    `          baseline  ${v.baseline.source} (${v.baseline.name}, seeds ${v.baseline.seeds.join(', ')})`,
    `task      ${describeTask(v.task)}`,
    `test      ${hypothesis(v)}`,
    `pairing   ${v.pairing}`,
    ...(v.configDifferences.length > 0 ? [`changes   baseline vs candidate: ${v.configDifferences.join('; ')}`] : []),
    ...v.notes.map((n) => `note      ${n}`),
    '',
    ...textTable(t.seedHeader, t.seedRows),
    '',
    ...textTable(t.testHeader, t.testRows),
    ...(v.imageTest ? [`  (${v.imageTest.description})`] : []),
    '',
    v.summary,
  ].join('\n');
}

/** The verdict for machines: every number, no per-image data. */
export function verdictJson(v: SeedGateResult): Record<string, unknown> {
  const { imageTest, ...rest } = v;
  return {
    format: 'mlbench.gate-verdict',
    version: 1,
    ...rest,
    imageTest: imageTest ? { ...imageTest, pooled: { ...imageTest.pooled } } : null,
    hypothesis: hypothesis(v),
  };
}

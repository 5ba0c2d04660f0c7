/**
 * Run export/import: one run as a self-describing JSON document, so results move between
 * databases (and people). The document carries its own format version (`version`), independent of
 * the database schema version; a newer format is refused rather than half-read.
 *
 * JSON has no NaN or ±Infinity, so those metric values and probabilities are written as the
 * strings "NaN", "Infinity" and "-Infinity". Finite doubles round-trip exactly (JSON.stringify
 * writes the shortest representation that parses back to the same double).
 */

import { canonicalJson } from '@mlbench/common';
import { z } from 'zod';
import type { Metric } from './entities';
import { InvalidRunExportError } from './errors';
import { RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION, type JsonNumber, type RunExport } from './run-export';
import { jsonDepth, runExportProblem, RUN_EXPORT_LIMITS } from './run-export-checks';

export { RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION, type ImportResult, type JsonNumber, type RunExport } from './run-export';

export function encodeNumber(value: number): JsonNumber {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function decodeNumber(value: JsonNumber): number {
  return typeof value === 'number' ? value : value === 'NaN' ? NaN : value === 'Infinity' ? Infinity : -Infinity;
}

export const toExportMetrics = (metrics: readonly Metric[]): RunExport['metrics'] =>
  metrics.map((m) => ({ key: m.key, value: encodeNumber(m.value), step: m.step }));

const jsonNumber = z.union([z.number(), z.literal('NaN'), z.literal('Infinity'), z.literal('-Infinity')]);
const splitName = z.enum(['train', 'val', 'test']);
const integer = z.number().int();
const stringMap = z.record(z.string(), z.string());

const runExportSchema = z.object({
  format: z.literal(RUN_EXPORT_FORMAT),
  version: z.literal(RUN_EXPORT_VERSION),
  schemaVersion: integer,
  exportedAt: z.string(),
  run: z.object({
    id: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits'),
    name: z.string().min(1),
    status: z.enum(['completed', 'failed', 'interrupted', 'abandoned']),
    startTime: z.string(),
    endTime: z.string().nullable(),
    durationMs: integer.nullable(),
    seed: integer,
    configHash: z.string(),
    configText: z.string(),
    resolvedConfig: z.unknown(),
    error: z.string().nullable(),
    environment: stringMap,
    pid: integer.nullable(),
    hostname: z.string().nullable(),
  }),
  params: z.array(z.object({ key: z.string(), value: z.string() })),
  metrics: z.array(z.object({ key: z.string(), value: jsonNumber, step: integer.nullable() })),
  dataset: z
    .object({
      path: z.string(),
      fingerprint: z.string(),
      classes: z.array(z.string()),
      classCounts: z.record(z.string(), integer),
      splitCounts: z.object({ train: z.record(z.string(), integer), val: z.record(z.string(), integer), test: z.record(z.string(), integer) }),
      splitHash: z.string(),
    })
    .nullable(),
  extractor: stringMap,
  split: z.array(z.object({ path: z.string(), sha256: z.string(), label: integer, split: splitName })),
  predictions: z.array(
    z.object({ path: z.string(), split: splitName, trueLabel: integer, predictedLabel: integer, probabilities: z.array(jsonNumber) }),
  ),
  skippedFiles: z.array(z.object({ path: z.string(), sha256: z.string().nullable(), reason: z.string() })),
  audit: z
    .array(
      z.object({
        path: z.string(),
        givenLabel: integer,
        suggestedLabel: integer.nullable(),
        selfConfidence: z.number(),
        score: z.number(),
        rank: integer.nullable(),
        flag: z.enum(['label_issue', 'no_confident_class', 'ok']),
        fold: integer,
        probabilities: z.array(jsonNumber),
      }),
    )
    .optional(),
});

/** Parses and validates an export document; `file` names it in messages. */
export function parseRunExport(text: string, file: string): RunExport {
  // Before parsing: the parsed value would reach recursive code (validation, canonical JSON).
  if (jsonDepth(text, RUN_EXPORT_LIMITS.jsonDepth) > RUN_EXPORT_LIMITS.jsonDepth) {
    throw new InvalidRunExportError(file, `nested deeper than ${RUN_EXPORT_LIMITS.jsonDepth} levels (a run export nests about 6)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidRunExportError(file, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (raw === null || typeof raw !== 'object' || (raw as { format?: unknown }).format !== RUN_EXPORT_FORMAT) {
    throw new InvalidRunExportError(file, `expected a JSON object with "format": "${RUN_EXPORT_FORMAT}" (written by \`runs export\`)`);
  }
  const version = (raw as { version?: unknown }).version;
  if (typeof version === 'number' && version > RUN_EXPORT_VERSION) {
    throw new InvalidRunExportError(file, `export format version ${version} is newer than this code reads (${RUN_EXPORT_VERSION}); upgrade the code`);
  }
  const parsed = runExportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRunExportError(file, `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const problem = runExportProblem(parsed.data as RunExport);
  if (problem) throw new InvalidRunExportError(file, problem);
  return parsed.data as RunExport;
}

export function serializeRunExport(data: RunExport): string {
  return `${JSON.stringify(data, null, 1)}\n`;
}

/** Deterministic JSON (sorted keys): two exports of the same run compare equal as text. */
export function canonicalRunJson(data: RunExport): string {
  const { exportedAt: _exportedAt, schemaVersion: _schemaVersion, ...content } = data;
  return canonicalJson(content);
}

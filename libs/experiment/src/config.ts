import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { canonicalJson, isHttpUrl } from '@mlbench/common';
import { closest } from 'fastest-levenshtein';
import { z } from 'zod';
import { experimentConfigSchema, type ExperimentConfig } from './config-schema';
import { ConfigError } from './errors';
import { describePoint, expandGrid, setDotted, type SweepPoint } from './sweep';
import { parseYamlText, readYamlFile } from './yaml-file';

export interface LoadedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** The YAML exactly as written. */
  text: string;
  /** Validated, defaults filled, `${VAR}` substituted, paths as written. */
  config: ExperimentConfig;
  /** Like `config`, with dataset and model paths made absolute (relative to the config file). */
  resolved: ExperimentConfig;
  /** sha256 of `config` as canonical JSON: identical experiments share it on every machine. */
  hash: string;
}

/** Reads, interpolates, validates and resolves an experiment config. Throws ConfigError. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const absFile = path.resolve(file);
  return parseConfig(await readConfigText(absFile), absFile, env);
}

/** Like loadConfig, from text; `file` names the source in messages and anchors relative paths. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const plan = parseExperiment(text, file, env);
  if (plan.sweep) {
    throw new ConfigError(`${file}: contains a sweep of ${plan.runs.length} runs; run it with: npx nx run runner -- --config ${file}`, file);
  }
  return plan.runs[0];
}

/** A config file's runs: one, or one per point of its `sweep` grid. */
export interface ExperimentPlan {
  file: string;
  text: string;
  /** The `sweep` section as written (dotted key -> values), or null for a single run. */
  sweep: Record<string, unknown[]> | null;
  points: SweepPoint[];
  /** Index-aligned with `points`. */
  runs: LoadedConfig[];
  /** sha256 of the whole file's content after interpolation: identifies a sweep for --resume. */
  hash: string;
}

/** Reads a config file that may contain a `sweep` section. Throws ConfigError. */
export async function loadExperiment(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ExperimentPlan> {
  const absFile = path.resolve(file);
  return parseExperiment(await readConfigText(absFile), absFile, env);
}

export function parseExperiment(text: string, file: string, env: NodeJS.ProcessEnv = process.env): ExperimentPlan {
  const raw = parseYamlText(text, file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: expected a YAML mapping with name, seed, dataset, preprocess, model and train`, file);
  }
  const { sweep: rawSweep, ...base } = interpolate(raw, env, file, []) as Record<string, unknown>;
  const hash = createHash('sha256').update(canonicalJson({ base, sweep: rawSweep ?? null })).digest('hex');
  if (rawSweep === undefined) {
    return { file, text, sweep: null, points: [{}], runs: [validate(base, text, file, '')], hash };
  }
  const sweep = parseSweepSection(rawSweep, file);
  const points = expandGrid(sweep);
  const runs = points.map((point, i) => {
    let config: unknown = base;
    for (const [key, value] of Object.entries(point)) config = setDotted(config, key, value, file);
    return validate(config, text, file, `sweep point ${i + 1} of ${points.length} (${describePoint(point)}): `);
  });
  return { file, text, sweep, points, runs, hash };
}

const sweepSchema = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/, { error: 'expected a dotted config key such as train.learningRate' }),
  z.array(z.union([z.string(), z.number(), z.boolean()]), { error: 'expected a list of values' }).min(1, { error: 'expected at least one value' }),
  { error: 'expected a mapping of dotted config keys to lists of values' },
);

function parseSweepSection(value: unknown, file: string): Record<string, unknown[]> {
  const parsed = sweepSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `sweep${issue.path.length ? '.' : ''}${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`${file}: ${problems.join('; ')}`, file, problems);
  }
  if (Object.keys(parsed.data).length === 0) throw new ConfigError(`${file}: sweep: expected at least one key to sweep`, file);
  return parsed.data;
}

function validate(raw: unknown, text: string, file: string, context: string): LoadedConfig {
  const parsed = experimentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${context}${describeIssue(issue, raw)}`);
    const head = problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`;
    throw new ConfigError(`${file}: ${head}`, file, problems);
  }
  const config = parsed.data;
  return { file, text, config, resolved: resolvePaths(config, path.dirname(file)), hash: hashConfig(config) };
}

const readConfigText = (absFile: string): Promise<string> => readYamlFile(absFile, 'config file');


function resolvePaths(config: ExperimentConfig, base: string): ExperimentConfig {
  const extractor = config.model.extractor;
  return {
    ...config,
    dataset: { ...config.dataset, path: path.resolve(base, config.dataset.path) },
    model: {
      ...config.model,
      extractor: extractor === 'none' ? extractor : { ...extractor, source: isHttpUrl(extractor.source) ? extractor.source : path.resolve(base, extractor.source) },
    },
  };
}

/** `${VAR}` and `${VAR:-default}` in string values; a missing variable without default is an error. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, file: string, at: (string | number)[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(
        `${file}: ${formatPath(at)}: environment variable ${name} is not set; set it or write \${${name}:-default}`,
        file,
      );
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, file, [...at, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, file, [...at, k])]));
  }
  return value;
}

const formatPath = (at: readonly PropertyKey[]): string =>
  at.length === 0 ? '(top level)' : at.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of at) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * The branch of a union the value was meant for: the one whose issues do not reject the value's
 * kind or its `type` outright (e.g. `head: {type: cnn, ...}` is judged as a CNN head), or null.
 */
function intendedBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | null {
  const rejectsKind = (i: z.core.$ZodIssue): boolean =>
    (i.code === 'invalid_type' || i.code === 'invalid_value') && (i.path.length === 0 || (i.path.length === 1 && i.path[0] === 'type'));
  const candidates = issue.errors.filter((branch) => branch.length > 0 && !branch.some(rejectsKind));
  return candidates.length === 1 ? candidates[0] : null;
}

/**
 * A value as the user wrote it, for messages: JSON, except that YAML's `.nan`, `.inf` and `-.inf`
 * (which JSON would print as null) stay as written.
 */
export function describeValue(value: unknown): string {
  const yamlNumber = (v: number): string => (Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf');
  if (typeof value === 'number' && !Number.isFinite(value)) return yamlNumber(value);
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${yamlNumber(v)}` : v));
  return text === undefined ? String(value) : text.replace(/"\\u0000(-?\.(?:nan|inf))"/g, '$1');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = formatPath(issue.path);
  if (issue.code === 'invalid_union') {
    const branch = intendedBranch(issue);
    if (branch) return branch.map((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, input)).join('\n  ');
    const expected: Record<string, string> = {
      'model.extractor': 'expected "none" or a mapping with source (a .tflite file, a tfjs model.json or a URL)',
      'model.head': 'expected a head with type "softmax" (dropout, l2) or "cnn" (blocks, dense, dropout)',
    };
    return `${where}: ${expected[where] ?? issue.message}, got ${describeValue(valueAt(input, issue.path))}`;
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path, input);
    return issue.keys
      .map((key) => {
        const suggestion = known.length > 0 ? closest(key, known) : undefined;
        const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
        const full = issue.path.length > 0 ? `${where}.${key}` : key;
        return `${full}: unknown key${hint}; allowed: ${known.join(', ')}`;
      })
      .join('\n  ');
  }
  const value = valueAt(input, issue.path);
  if (value === undefined && issue.code === 'invalid_type') return `${where}: missing; ${issue.message}`;
  if (issue.code === 'custom') return `${where}: ${issue.message}, got ${describeValue(value)}`;
  return `${where}: ${issue.message}, got ${describeValue(value)}`;
}

type SchemaNode = {
  _zod: { def: { type: string; shape?: Record<string, SchemaNode>; innerType?: SchemaNode; in?: SchemaNode; options?: SchemaNode[]; values?: unknown[]; entries?: Record<string, unknown> } };
};

/** Keys a strict object accepts at `at`, for did-you-mean suggestions; `input` picks a union's branch by its `type`. */
function knownKeysAt(at: readonly PropertyKey[], input?: unknown): string[] {
  let node: SchemaNode | undefined = experimentConfigSchema as unknown as SchemaNode;
  const accepts = (n: SchemaNode | undefined, value: unknown): boolean => {
    let current = n;
    while (current?._zod.def.innerType) current = current._zod.def.innerType;
    const def = current?._zod.def;
    return def?.values?.includes(value) === true || (def?.entries !== undefined && Object.values(def.entries).includes(value));
  };
  const unwrap = (n: SchemaNode | undefined, value: unknown): SchemaNode | undefined => {
    let current = n;
    while (current && !current._zod.def.shape) {
      const def: SchemaNode['_zod']['def'] = current._zod.def;
      if (def.options) {
        const objects = def.options.map((o) => unwrap(o, value)).filter((o): o is SchemaNode => o !== undefined);
        const type = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).type : undefined;
        return objects.find((o) => accepts(o._zod.def.shape?.type, type)) ?? objects[0];
      }
      current = def.innerType ?? def.in;
      if (!current) return undefined;
    }
    return current;
  };
  for (const [i, key] of at.entries()) {
    node = unwrap(node, valueAt(input, at.slice(0, i)))?._zod.def.shape?.[String(key)];
  }
  return Object.keys(unwrap(node, valueAt(input, at))?._zod.def.shape ?? {});
}

export function hashConfig(config: ExperimentConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** `{a: {b: 1}}` -> `[['a.b', '1']]`; arrays become JSON. The params of a run. */
export function flattenConfig(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => flattenConfig(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
}

/** The `study` section of a study file: its schema and a pure parser (arms' configs are not read). */
import { z } from 'zod';
import { ConfigError } from './errors';
import { parseYamlText } from './yaml-file';

const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).trim().min(1, { error: `expected ${what}` });

export const studyFileSchema = z.strictObject({
  study: z.strictObject({
    /** Groups the study's records; letters, digits, . _ - */
    name: nonEmpty('a name (letters, digits, ".", "_" or "-")').regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a name of letters, digits, ".", "_" or "-"' }),
    /** The question the study answers, in one sentence: the report page opens with it. */
    question: nonEmpty('the question the study answers'),
    /** Optional prose for the report: what is frozen, what is trained, anything a reader needs. */
    description: z.string({ error: 'expected a string' }).optional(),
    arms: z
      .array(
        z.strictObject({
          /** How the report names the arm, e.g. "Frozen MobileNetV2 + softmax". */
          label: nonEmpty('a label for the arm'),
          /** A config file with a `sweep` section, relative to the study file. */
          config: nonEmpty('a config file path'),
        }),
        { error: 'expected a list of arms, each { label, config }' },
      )
      .min(2, { error: 'expected at least two arms (a study compares)' }),
  }),
});

export type StudyDefinition = z.infer<typeof studyFileSchema>['study'];

/** Whether YAML text is a study file (a top-level `study` key) rather than an experiment config. */
export function isStudyText(text: string): boolean {
  let raw: unknown;
  try {
    raw = parseYamlText(text, '(study check)');
  } catch {
    return false; // not a valid study; the config loader reports the problem
  }
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'study' in raw;
}

/** Validates the study section (pure: arms are not read). Throws ConfigError naming the field. */
export function parseStudyDefinition(text: string, file: string): StudyDefinition {
  const parsed = studyFileSchema.safeParse(parseYamlText(text, file));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(top level)';
      const detail = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      return `${where}: ${detail}`;
    });
    throw new ConfigError(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`, file, problems);
  }
  const labels = parsed.data.study.arms.map((a) => a.label);
  const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
  if (duplicate) throw new ConfigError(`${file}: study.arms: the label "${duplicate}" is used twice; give every arm its own label`, file);
  return parsed.data.study;
}

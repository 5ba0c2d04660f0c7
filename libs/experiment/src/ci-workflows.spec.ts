import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { AUDIT_CODE_VERSION } from './audit-cache';

/**
 * The CI workflows the README shows for the seed gate are committed as shown, are valid YAML
 * and install an npm that meets package.json `engines` (they are not run here).
 */
const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string): Promise<string> => fs.readFile(path.join(ROOT, file), 'utf8');

/** The ```yaml block of the README that follows `marker`. */
function readmeBlock(readme: string, marker: string): string {
  const at = readme.indexOf(marker);
  expect(at).toBeGreaterThanOrEqual(0);
  const start = readme.indexOf('```yaml\n', at) + '```yaml\n'.length;
  return readme.slice(start, readme.indexOf('```\n', start));
}

/**
 * The cache key's script reads AUDIT_CODE_VERSION with a sed expression and hashes the lockfile:
 * the expression must still find the version in the source (else the key silently loses it).
 */
async function expectAuditVersionInKey(script: string): Promise<void> {
  const sed = /audit=\$\(sed -n 's\/(.*)\/\\1\/p' libs\/experiment\/src\/audit-cache\.ts\)/.exec(script);
  expect(sed).not.toBeNull();
  // sed's basic regex \( \) groups are ( ) in JavaScript.
  const pattern = new RegExp((sed?.[1] ?? '').replace(/\\\(/g, '(').replace(/\\\)/g, ')'), 'm');
  const found = pattern.exec(await read('libs/experiment/src/audit-cache.ts'));
  expect(found?.[1]).toBe(String(AUDIT_CODE_VERSION));
  expect(script).toContain('lock=$(sha256sum package-lock.json | cut -c1-16)');
  expect(script).toMatch(/=\$model-\$data-audit\$audit-\$lock"/);
}

describe('CI workflows for the gate', () => {
  let readme: string;
  let npmMinimum: string;
  beforeAll(async () => {
    readme = await read('README.md');
    const engines = (JSON.parse(await read('package.json')) as { engines: { npm: string } }).engines;
    npmMinimum = /^>=(\d+\.\d+\.\d+)$/.exec(engines.npm)?.[1] as string;
    expect(npmMinimum).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('GitHub Actions: .github/workflows/gate.yml is the README block, valid YAML, Node 22 with the engines npm', async () => {
    const text = await read('.github/workflows/gate.yml');
    expect(text).toBe(readmeBlock(readme, '(`.github/workflows/gate.yml`):'));
    const workflow = parse(text) as { on: string; jobs: { gate: { steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] } } };
    expect(workflow.on).toBe('pull_request');
    const steps = workflow.jobs.gate.steps;
    expect(steps.find((s) => s.uses === 'actions/setup-node@v4')?.with).toEqual({ 'node-version': 22, cache: 'npm' });
    const runs = steps.map((s) => s.run ?? '');
    expect(runs.indexOf(`npm install -g npm@${npmMinimum}`)).toBeLessThan(runs.indexOf('npm ci'));
    expect(runs.indexOf(`npm install -g npm@${npmMinimum}`)).toBeGreaterThanOrEqual(0);
    expect(runs.join('\n')).toContain('gate --config experiments/flowers-mobilenetv2-frozen.yaml --seeds 1,2,3');
    await expectAuditVersionInKey(runs.join('\n'));
  });

  it('GitLab CI: .gitlab-ci.yml is the README block, valid YAML, Node 22 with the engines npm', async () => {
    const text = await read('.gitlab-ci.yml');
    expect(text).toBe(readmeBlock(readme, 'GitLab CI (`.gitlab-ci.yml`;'));
    const pipeline = parse(text) as { stages: string[]; gate: { image: string; script: string[]; cache: { key: string } } };
    expect(pipeline.stages).toEqual(['prepare', 'gate']);
    expect(pipeline.gate.image).toBe('node:22');
    expect(pipeline.gate.cache.key).toBe('features-$FEATURES_KEY');
    expect(pipeline.gate.script.slice(0, 2)).toEqual([`npm install -g npm@${npmMinimum}`, 'npm ci']);
    await expectAuditVersionInKey((parse(text) as { 'feature-key': { script: string[] } })['feature-key'].script.join('\n'));
  });
});

// Sums the per-project counts written by scripts/jest-count-reporter.js: `--reset` clears them
// before a run; without it, names every failed test (and every project whose tests did not report:
// crashed, killed or not run), prints "N passed, N failed, N skipped" and fails on failures.
// `--nx-exit=N` passes on nx's exit status, so a failed non-test task (a typecheck) also fails.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, 'results/test-counts');
if (process.argv.includes('--reset')) {
  fs.rmSync(DIR, { recursive: true, force: true });
  process.exit(0);
}
const nxExit = Number((process.argv.find((a) => a.startsWith('--nx-exit=')) || '--nx-exit=0').split('=')[1]);

/** Projects with a `test` target: each should have written its counts. */
function testedProjects() {
  const names = [];
  for (const group of ['apps', 'libs']) {
    const dir = path.join(ROOT, group);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir)) {
      const file = path.join(dir, entry, 'project.json');
      if (!fs.existsSync(file)) continue;
      const project = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (project.targets && project.targets.test) names.push(entry);
    }
  }
  return names.sort();
}

const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];
const total = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
for (const file of files) {
  const counts = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  for (const key of Object.keys(total)) total[key] += counts[key];
  failures.push(...(counts.failures || []));
}
const reported = new Set(files.map((f) => f.replace(/\.json$/, '')));
const silent = testedProjects().filter((name) => !reported.has(name));

console.log('\n--- test summary');
for (const f of failures) console.log(`FAILED ${f.file} › ${f.test}\n${f.message.replace(/^/gm, '    ')}`);
for (const name of silent) console.log(`NO RESULTS from project ${name}: its tests did not finish (crashed, killed, or not run; see its output above)`);
if (nxExit !== 0 && failures.length === 0 && silent.length === 0) console.log(`nx exited with status ${nxExit}: a task other than the tests failed (see "Failed tasks" above)`);
console.log(`${files.length} projects tested`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || files.length === 0 || silent.length > 0 || nxExit !== 0 ? 1 : 0);

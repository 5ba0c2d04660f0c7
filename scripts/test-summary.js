// Sums the per-project counts written by scripts/jest-count-reporter.js: `--reset` clears
// them before a run; without it, prints "N passed, N failed, N skipped" and fails on failures.
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.resolve(__dirname, '../results/test-counts');
if (process.argv.includes('--reset')) {
  fs.rmSync(DIR, { recursive: true, force: true });
  process.exit(0);
}
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];
const total = { passed: 0, failed: 0, skipped: 0 };
for (const file of files) {
  const counts = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  for (const key of Object.keys(total)) total[key] += counts[key];
}
console.log(`\n${files.length} projects tested`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || files.length === 0 ? 1 : 0);

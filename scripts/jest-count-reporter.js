// Jest reporter that records each project's test counts, so `npm test` can end with one
// "N passed, N failed" line over all projects (see scripts/test-summary.js).
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.resolve(__dirname, '../results/test-counts');

class CountReporter {
  constructor(globalConfig) {
    this.name = path.basename(globalConfig.rootDir);
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(DIR, { recursive: true });
    const counts = { passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests + results.numTodoTests };
    fs.writeFileSync(path.join(DIR, `${this.name}.json`), JSON.stringify(counts));
  }
}

module.exports = CountReporter;

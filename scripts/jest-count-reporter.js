// Jest reporter that records each project's test counts and failures, so `npm test` can end with
// one "N passed, N failed" line over all projects and the failures named again at the end, where
// a CI log's tail shows them (see scripts/test-summary.js).
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.resolve(__dirname, '../results/test-counts');
const MESSAGE_LINES = 12;
// eslint-disable-next-line no-control-regex
const plain = (text) => String(text).replace(/\x1b\[[0-9;]*m/g, '');
const firstLines = (text) => plain(text).split('\n').filter((l) => l.trim() !== '' && !/node_modules|<anonymous>/.test(l)).slice(0, MESSAGE_LINES).join('\n');

class CountReporter {
  constructor(globalConfig) {
    this.name = path.basename(globalConfig.rootDir);
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(DIR, { recursive: true });
    const failures = [];
    for (const suite of results.testResults) {
      const file = path.relative(path.resolve(__dirname, '..'), suite.testFilePath);
      // A suite that could not run (syntax error, crash in set-up, worker killed) has no test results.
      if (suite.testExecError) failures.push({ file, test: '(the suite failed to run)', message: firstLines(suite.testExecError.message || suite.failureMessage || '') });
      for (const test of suite.testResults) {
        if (test.status === 'failed') failures.push({ file, test: test.fullName, message: firstLines(test.failureMessages.join('\n')) });
      }
    }
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures,
    };
    fs.writeFileSync(path.join(DIR, `${this.name}.json`), JSON.stringify(counts));
  }
}

module.exports = CountReporter;

'use strict';
// Entry point of an audit fold worker (fold-workers.ts). A worker thread is a fresh Node instance
// without the parent's TypeScript hook (tsx, or Jest's transform), so it registers tsx's CommonJS
// hook itself, then loads the TypeScript worker.
require('tsx/cjs/api').register();
require('./audit-worker.ts');

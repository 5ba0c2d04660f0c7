'use strict';
// Entry point of a tfjs pool worker. A worker thread is a fresh Node instance: it does not inherit
// the parent's TypeScript hook (tsx's loader when run with `tsx`, or Jest's @swc/jest transform),
// so it registers tsx's CommonJS hook itself and then loads the TypeScript worker module.
require('tsx/cjs/api').register();
require('./worker.ts');

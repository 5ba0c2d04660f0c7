/**
 * Preload (`--require`) for tests: when the process exits, writes the path of every module it
 * loaded, one per line, to the file named by MLBENCH_MODULE_LIST.
 */
import * as fs from 'node:fs';

const target = process.env['MLBENCH_MODULE_LIST'];
if (target) process.on('exit', () => fs.writeFileSync(target, `${Object.keys(require.cache).join('\n')}\n`));

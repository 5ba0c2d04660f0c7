/** Testing entry of @mlbench/experiment (`@mlbench/experiment/src/testing`): helpers for tests of any project. */
export { tinyConfig, type TinyConfigOptions } from './tiny-config';
export { configErrorOf } from './config-error-of';

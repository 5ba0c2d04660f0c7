/** Testing entry of @mlbench/tracking (`@mlbench/tracking/src/testing`): fixtures for tests of any project. */
export { newRun, prng, runRecord, tempDir, type TempDir } from './fixtures';

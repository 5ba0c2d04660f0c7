/** Testing entry of @mlbench/tracking (`@mlbench/tracking/src/testing`): fixtures for tests of any project. */
export { newRun, prng, runRecord, tempDir, withStore, type TempDir } from './fixtures';
export { postgresBinDir, startPostgres, type PostgresServer } from './postgres-server';
export { asUser, freePort, ownedTempDir, runAs, serverUser, spawnAs, stopProcess, type ServerUser } from './server-process';

import { createHash } from 'node:crypto';
import { groupByClass, shuffleInPlace } from '@mlbench/common';
import seedrandom from 'seedrandom';
import { DatasetError } from './errors';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/**
 * Seeded stratified split: within every class, images (in scan order) are shuffled with a
 * seedrandom generator and cut into test, val and train by rounded fractions. seedrandom's
 * ARC4 stream is specified bit for bit, so the same seed gives the same split on any machine.
 *
 * @returns the split of every image, index-aligned with `labels`.
 */
export function stratifiedSplit(
  labels: readonly number[],
  fractions: SplitFractions,
  seed: number | string,
  classNames?: readonly string[],
): SplitName[] {
  const rng = seedrandom(`split:${seed}`);
  const assignment = new Array<SplitName>(labels.length);
  for (const [label, members] of groupByClass(labels)) {
    shuffleInPlace(members, rng);
    const nTest = Math.round(members.length * fractions.test);
    const nVal = Math.round(members.length * fractions.val);
    const nTrain = members.length - nTest - nVal;
    const name = classNames?.[label] ?? `class ${label}`;
    const wanted: [SplitName, number, number][] = [
      ['train', fractions.train, nTrain],
      ['val', fractions.val, nVal],
      ['test', fractions.test, nTest],
    ];
    for (const [split, fraction, count] of wanted) {
      if (fraction > 0 && count < 1) {
        throw new DatasetError(
          `class "${name}" has ${members.length} image(s), too few for a stratified split with ${split} = ${fraction}; ` +
            'add images to that class or change dataset.split',
          name,
        );
      }
    }
    members.forEach((index, position) => {
      assignment[index] = position < nTest ? 'test' : position < nTest + nVal ? 'val' : 'train';
    });
  }
  return assignment;
}

/** Identifies a split's membership: same images (by content) in the same splits => same hash. */
export function splitHash(members: readonly { relPath: string; sha256: string; split: SplitName }[]): string {
  const hash = createHash('sha256');
  const lines = members.map((m) => `${m.relPath}\0${m.sha256}\0${m.split}\n`).sort();
  for (const line of lines) hash.update(line);
  return hash.digest('hex');
}

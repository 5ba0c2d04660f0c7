import type { DatasetInput, Prediction, SplitMember } from '@mlbench/tracking';
import type { ImageSource, ThumbnailIndex } from './images';
import { dateTime, percent, shortId } from './format';

/** Chart markup produced by our chart functions, which escape every label themselves. */
export interface Svg {
  readonly svg: string;
}

export const svg = (markup: string): Svg => ({ svg: markup });

/** One thumbnail with its caption, e.g. a test image with actual and predicted class. */
export interface Tile {
  /** Relative URL of the thumbnail, or null when the original image is gone (placeholder). */
  src: string | null;
  alt: string;
  lines: readonly { text: string; kind: 'true' | 'pred' | 'note' }[];
  /** Shown with a red frame and a cross. */
  wrong: boolean;
  /** Hover text: path and class probabilities. */
  title: string;
}

export interface StatusView {
  status: string;
  /** CSS class: ok, running, failed. */
  tone: 'ok' | 'running' | 'failed';
}

export function statusView(status: string): StatusView {
  return { status, tone: status === 'completed' ? 'ok' : status === 'running' ? 'running' : 'failed' };
}

/** What every link to a recorded run or sweep shows: its ids, name, status and start. */
export interface RecordLink {
  id: string;
  shortId: string;
  href: string;
  name: string;
  status: StatusView;
  started: string;
}

export function recordLink(record: { id: string; name: string; status: string; startTime: string }, href: string): RecordLink {
  return { id: record.id, shortId: shortId(record.id), href, name: record.name, status: statusView(record.status), started: dateTime(record.startTime) };
}

/** Split members by relative path, to find an image's sha256 from a prediction. */
export function membersByPath(split: readonly SplitMember[]): Map<string, SplitMember> {
  return new Map(split.map((m) => [m.path, m]));
}

/** A split member as a thumbnail source: confined to the dataset root and checked against its hash by the writer. */
export function imageSource(dataset: DatasetInput, member: SplitMember): ImageSource {
  return { sha256: member.sha256, root: dataset.path, path: member.path };
}

/** A prediction as a tile: actual and predicted class, confidence, wrong ones marked. */
export function predictionTile(
  prediction: Prediction,
  classes: readonly string[],
  member: SplitMember | undefined,
  thumbs: ThumbnailIndex,
  thumbPrefix: string,
): Tile {
  const truth = classes[prediction.trueLabel] ?? `#${prediction.trueLabel}`;
  const predicted = classes[prediction.predictedLabel] ?? `#${prediction.predictedLabel}`;
  const confidence = prediction.probabilities[prediction.predictedLabel];
  const wrong = prediction.trueLabel !== prediction.predictedLabel;
  const top = prediction.probabilities
    .map((p, i) => ({ p, name: classes[i] ?? `#${i}` }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 3)
    .map((x) => `${x.name} ${percent(x.p, 1)}`)
    .join(', ');
  return {
    src: thumbSrc(member, thumbs, thumbPrefix),
    alt: `${prediction.path}: actual ${truth}, predicted ${predicted}`,
    lines: wrong
      ? [
          { text: `actual: ${truth}`, kind: 'true' },
          { text: `predicted: ${predicted} (${percent(confidence, 0)})`, kind: 'pred' },
        ]
      : [{ text: `${truth} (${percent(confidence, 0)})`, kind: 'true' }],
    wrong,
    title: `${prediction.path}\n${top}`,
  };
}

export function thumbSrc(member: SplitMember | undefined, thumbs: ThumbnailIndex, thumbPrefix: string): string | null {
  const name = member ? thumbs.get(member.sha256) : undefined;
  return name ? `${thumbPrefix}${name}` : null;
}

/** Confusion matrix (rows: actual, columns: predicted) from recorded predictions of one split. */
export function confusionFromPredictions(predictions: readonly Prediction[], numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (const p of predictions) {
    // Labels outside the class list (a hand-edited store) are not counted rather than crashing a page.
    if (matrix[p.trueLabel] && p.predictedLabel in matrix[p.trueLabel]) matrix[p.trueLabel][p.predictedLabel]++;
  }
  return matrix;
}

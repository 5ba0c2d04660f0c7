/**
 * Confident learning's verdict on one image's label: computed by `@mlbench/metrics`
 * (confident-learning.ts, where the flags and scores are defined) and recorded by
 * `@mlbench/tracking` (an audit result), which may not import each other.
 */

export type AuditFlag = 'label_issue' | 'no_confident_class' | 'ok';

export interface LabelVerdict {
  givenLabel: number;
  /** The confident class when it differs from the given label (label issues only), else null. */
  suggestedLabel: number | null;
  /** Out-of-fold probability of the given label. */
  selfConfidence: number;
  /** Higher = more suspicious (label issue: p[suggested] - p[given]; see confident-learning.ts). */
  score: number;
  /** 1-based rank among images of the same flag (by score), null for ok images. */
  rank: number | null;
  flag: AuditFlag;
}

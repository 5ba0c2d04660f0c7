/** What a run's inputs were when a point was submitted: a worker must see the same. */
export interface ExpectedInputs {
  datasetFingerprint: string;
  modelSha256: string;
}

export interface ActualInputs extends ExpectedInputs {
  datasetRoot: string;
  modelSource: string;
}

/**
 * The dataset or model on this machine differs from what the point was submitted with (another
 * version on this disk): the run is refused before any row is written.
 */
export class InputMismatchError extends Error {
  override name = 'InputMismatchError';
  constructor(
    message: string,
    readonly expected: ExpectedInputs,
    readonly actual: ActualInputs,
  ) {
    super(message);
  }
}

/** Throws InputMismatchError naming both fingerprints (or both model hashes) when they differ. */
export function checkExpectedInputs(expected: ExpectedInputs, actual: ActualInputs): void {
  const problems: string[] = [];
  if (expected.datasetFingerprint !== actual.datasetFingerprint) {
    problems.push(`dataset ${actual.datasetRoot} has fingerprint ${actual.datasetFingerprint} here, but the point was submitted with fingerprint ${expected.datasetFingerprint}`);
  }
  if (expected.modelSha256 !== actual.modelSha256) {
    problems.push(`model ${actual.modelSource} has sha256 ${actual.modelSha256} here, but the point was submitted with sha256 ${expected.modelSha256}`);
  }
  if (problems.length === 0) return;
  throw new InputMismatchError(
    `${problems.join('; ')}: this machine holds other data than the submitter; give it the same files (or remap with --data-root) — nothing was recorded`,
    expected,
    actual,
  );
}

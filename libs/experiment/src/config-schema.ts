import { z } from 'zod';

// Every leaf carries its own "expected ..." wording, so errors read like
// `train.epochs: expected a positive integer, got "ten"` rather than zod's generic text.
const positiveInt = (what = 'a positive integer') =>
  z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const fraction = z.number({ error: 'expected a number in [0, 1]' }).min(0, { error: 'expected a number in [0, 1]' }).max(1, { error: 'expected a number in [0, 1]' });
const nonNegative = (what: string) => z.number({ error: `expected ${what}` }).min(0, { error: `expected ${what}` });
const text = (what = 'a non-empty string') => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.map((v) => `"${v}"`).join(', ')}` });

/** Largest preprocess height or width: larger inputs exhaust memory long before they help. */
export const MAX_IMAGE_SIDE = 4096;
const imageSide = positiveInt(`a positive integer up to ${MAX_IMAGE_SIDE}`).max(MAX_IMAGE_SIDE, { error: `expected a positive integer up to ${MAX_IMAGE_SIDE}` });

const dropoutRate = z.number({ error: 'expected a number in [0, 1)' }).min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' });

const splitSchema = z
  .strictObject({ train: fraction, val: fraction, test: fraction })
  .refine((s) => Math.abs(s.train + s.val + s.test - 1) < 1e-9, {
    error: 'expected train + val + test to sum to 1',
  })
  .refine((s) => s.train > 0 && s.test > 0, { error: 'expected train and test fractions above 0' });

export const experimentConfigSchema = z.strictObject({
  /** Groups runs of the same experiment in the store and the report. */
  name: text('a name (letters, digits, ".", "_" or "-")').regex(/^[A-Za-z0-9._-]+$/, {
    error: 'expected a name of letters, digits, ".", "_" or "-"',
  }),
  description: z.string({ error: 'expected a string' }).optional(),
  /** Seeds the split, weight initialisation, dropout and shuffling. */
  seed: z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }),
  dataset: z.strictObject({
    /** A folder with one sub-folder of images per class. */
    path: text('a folder path'),
    split: splitSchema.default({ train: 0.7, val: 0.1, test: 0.2 }),
    /**
     * What to do with images that cannot be decoded (truncated, empty, not an image, too large,
     * broken links): `fail` (default) stops before anything is recorded, naming every file and
     * reason; `skip` leaves them out and records them with the run.
     */
    onBadImage: oneOf(['fail', 'skip'] as const).default('fail'),
    /**
     * Follow symbolic links that lead outside `path` (default: no; such links are reported as
     * unusable images, a class folder linking outside is refused). Optional, so configs without
     * it keep their hash.
     */
    followLinksOutside: z.boolean({ error: 'expected true or false' }).optional(),
  }),
  preprocess: z
    .strictObject({
      /** [height, width] of the network input. */
      size: z.tuple([imageSide, imageSide], { error: `expected [height, width], two positive integers up to ${MAX_IMAGE_SIDE}` }),
      resize: oneOf(['bilinear', 'nearest', 'bicubic', 'lanczos3'] as const).default('bilinear'),
      fit: oneOf(['fill', 'cover', 'contain'] as const).default('fill'),
      scaling: oneOf(['minus_one_to_one', 'zero_to_one', 'raw'] as const).default('minus_one_to_one'),
    }),
  model: z.strictObject({
    /** A frozen network, or `none`: the features are the preprocessed pixels themselves (flat NHWC). */
    extractor: z.union([z.literal('none'), z.strictObject({
      /** A .tflite file, a tfjs model.json, or an http(s) URL to either. */
      source: text('a model file path or URL'),
      /** Tensor/layer giving the features; auto = the global average pool. */
      featureLayer: text().default('auto'),
      /** Expected sha256 of a downloaded model. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' }).optional(),
      batchSize: positiveInt().default(32),
      backend: oneOf(['auto', 'tfjs-node', 'wasm', 'cpu'] as const).default('auto'),
      /** What runs the network: onnx (ONNX Runtime), tfjs (backend above), or auto = the fastest available. */
      engine: oneOf(['auto', 'tfjs', 'onnx'] as const).default('auto'),
      /**
       * float32 (weights dequantized) or int8 (a quantized .tflite run as quantized on ONNX Runtime;
       * models that are not quantized keep float32). Optional, so configs without it keep their hash.
       */
      precision: oneOf(['float32', 'int8'] as const).optional(),
      /**
       * tfjs on WebAssembly only: worker threads sharing each batch (features are bit-identical);
       * absent = auto = one per core, 1 = the main thread. Optional, so configs without it keep their hash.
       */
      workers: z.union([z.literal('auto'), positiveInt()], { error: 'expected "auto" or a positive integer' }).optional(),
    })]),
    head: z
      .union([
        z.strictObject({
          type: oneOf(['softmax'] as const).default('softmax'),
          dropout: dropoutRate.default(0),
          l2: nonNegative('a number >= 0').default(0),
        }),
        /**
         * A small CNN trained from scratch on the pixels (needs `extractor: none`): per block a
         * `kernel`x`kernel` convolution with ReLU and 2x2 max pooling, then flatten, dropout, an
         * optional hidden dense layer (`dense` units, ReLU, dropout) and softmax.
         */
        z.strictObject({
          type: z.literal('cnn', { error: 'expected "softmax" or "cnn"' }),
          blocks: z
            .array(z.strictObject({ filters: positiveInt(), kernel: positiveInt('an odd positive integer').refine((k) => k % 2 === 1, { error: 'expected an odd positive integer' }).default(3) }), { error: 'expected a list of blocks such as [{filters: 16}, {filters: 32}]' })
            .min(1, { error: 'expected at least one block' }),
          dense: nonNegative('an integer >= 0 (0 = no hidden dense layer)').int({ error: 'expected an integer >= 0' }).default(0),
          dropout: dropoutRate.default(0),
        }),
      ])
      .default({ type: 'softmax', dropout: 0, l2: 0 }),
  }).refine((m) => m.head.type !== 'cnn' || m.extractor === 'none', {
    error: 'expected model.extractor: none with head type "cnn" (the CNN trains on the pixels, not on frozen features)',
    path: ['head', 'type'],
  }),
  train: z.strictObject({
    optimizer: oneOf(['adam', 'sgd', 'rmsprop', 'adagrad'] as const).default('adam'),
    learningRate: z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' }),
    epochs: positiveInt(),
    batchSize: positiveInt(),
  }),
  /**
   * Label audit: k-fold cross-validated heads over the whole dataset's features give out-of-fold
   * probabilities; confident learning flags suspected label issues (see README "Label audit").
   * Optional, so configs without it keep their hash and params.
   */
  audit: z
    .strictObject({
      enabled: z.boolean({ error: 'expected true or false' }).default(false),
      folds: z.number({ error: 'expected an integer >= 2' }).int({ error: 'expected an integer >= 2' }).min(2, { error: 'expected an integer >= 2' }).default(5),
      /** Leave flagged images out of the TRAIN split (val and test are never changed). */
      excludeFromTraining: z.boolean({ error: 'expected true or false' }).default(false),
    })
    .optional(),
});

/** A validated experiment config, defaults filled, paths as written. */
export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
/** A frozen network's settings (`model.extractor` unless it is `none`). */
export type ModelExtractorConfig = Exclude<ExperimentConfig['model']['extractor'], 'none'>;
export type HeadConfig = ExperimentConfig['model']['head'];
export type CnnHeadConfig = Extract<HeadConfig, { type: 'cnn' }>;

/**
 * Fisher-Yates with an injected generator, so the order depends only on the seed. Draws exactly
 * one number per position from the last down to the second: splits, folds and training order
 * all rely on this consumption order staying the same.
 */
export function shuffleInPlace<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

import { jsonDepth } from './json-depth';

it('counts nesting outside strings, iteratively, stopping past the limit', () => {
  expect(jsonDepth('{"a": "[[[[", "b": [[1]]}', 10)).toBe(3);
  expect(jsonDepth('"\\"{"', 10)).toBe(0);
  expect(jsonDepth('['.repeat(200_000) + ']'.repeat(200_000), 64)).toBe(65);
});

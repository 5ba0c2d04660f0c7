import { PassThrough } from 'node:stream';
import { onStreamLines } from './stream-lines';

it('gives whole lines across chunk boundaries and holds an unterminated tail', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  onStreamLines(stream, (l) => lines.push(l));
  stream.write('one\ntw');
  stream.write('o\n\nthree');
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines).toEqual(['one', 'two', '']);
});

import { errnoCode, errnoWords } from './errno';

describe('errno wording', () => {
  it('names the disk and permission failures users can fix', () => {
    expect(errnoWords('ENOSPC')).toBe('no space left on device');
    expect(errnoWords('EACCES')).toBe('permission denied');
    expect(errnoWords('EROFS')).toBe('read-only file system');
    expect(errnoWords('ENOTDIR')).toBe('a part of the path is a file, not a folder');
    expect(errnoWords('EWHATEVER')).toBeUndefined();
    expect(errnoWords(undefined)).toBeUndefined();
  });

  it('reads the code of a system error and nothing else', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errnoCode(new Error('x'))).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
    expect(errnoCode('ENOENT')).toBeUndefined();
  });
});

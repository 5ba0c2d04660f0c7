export { canonicalJson } from './canonical-json';
export { errnoCode, errnoWords } from './errno';
export { groupByClass } from './group-by-class';
export { shuffleInPlace } from './shuffle';
export { isHttpUrl } from './url';
export { jsonDepth } from './json-depth';
export { describeFileKind, FileBoundsError, readFileBounded } from './read-file-bounded';
export { writeFileAtomic } from './write-file-atomic';
export { terminalSafe } from './terminal-text';

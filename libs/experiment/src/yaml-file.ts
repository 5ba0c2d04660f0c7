/**
 * Reading and parsing the YAML of configs and study files within fixed bounds, checked before the
 * parser sees the text: hostile YAML (an alias bomb, 100k nested brackets, a link to /dev/zero)
 * ends with a ConfigError naming the file, never with memory exhaustion or a stack overflow.
 */
import { FileBoundsError, readFileBounded } from '@mlbench/common';
import { CST, Lexer, parseDocument } from 'yaml';
import { ConfigError } from './errors';

/** Largest config or study file: real ones are a few KB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Deepest nesting of mappings and sequences (block or flow); real configs nest 4 levels. */
export const MAX_CONFIG_DEPTH = 64;
/** Alias (`*name`) expansions allowed while building the values; more is an alias bomb. */
export const MAX_CONFIG_ALIASES = 100;

/** The file's text, if it is a regular file of at most MAX_CONFIG_BYTES. */
export async function readYamlFile(absFile: string, what: 'config file' | 'study file'): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFileBounded(absFile, MAX_CONFIG_BYTES, `the ${what} limit`);
  } catch (error) {
    if (error instanceof FileBoundsError) {
      throw new ConfigError(`${error.message} (1 MiB); pass the experiment's YAML ${what}`, absFile);
    }
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `${what} ${absFile} does not exist; pass --config experiments/<name>.yaml` : `cannot read ${what} ${absFile} (${code})`,
      absFile,
    );
  }
  return bytes.toString('utf8');
}

/**
 * Nesting depth of YAML text, from the lexer's tokens (no tree is built): flow brackets count one
 * level each; in block context every deeper indentation or `-`/`?` indicator on a line opens one.
 */
export function yamlNestingDepth(text: string): number {
  let flow = 0;
  let deepest = 0;
  const indents: number[] = [];
  let column = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    // A flow collection's bracket is counted as a flow level below, not as a block entry.
    const isContent = type === 'seq-item-ind' || type === 'explicit-key-ind' ||
      type === 'anchor' || type === 'tag' || type === 'alias' || type === 'single-quoted-scalar' || type === 'double-quoted-scalar' ||
      (type === null && !token.startsWith('\u001f'));
    if (flow === 0 && isContent) {
      while (indents.length > 0 && indents[indents.length - 1] >= column) indents.pop();
      indents.push(column);
    }
    if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if ((type === 'flow-map-end' || type === 'flow-seq-end') && flow > 0) flow--;
    deepest = Math.max(deepest, indents.length + flow);
    const newline = token.lastIndexOf('\n');
    column = newline >= 0 ? token.length - newline - 1 : column + token.length;
  }
  return deepest;
}

/** Parses YAML text into plain values within the bounds above. Throws ConfigError. */
export function parseYamlText(text: string, file: string): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw new ConfigError(`${file} is ${bytes} bytes, over the config limit of ${MAX_CONFIG_BYTES} bytes (1 MiB)`, file);
  const depth = yamlNestingDepth(text);
  if (depth > MAX_CONFIG_DEPTH) {
    throw new ConfigError(`${file}: nested ${depth} levels deep, over the limit of ${MAX_CONFIG_DEPTH}; a config nests a few levels (model.extractor.source)`, file);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at ? `line ${at.line}, column ${at.col}` : 'unknown position';
      return `${where}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new ConfigError(`${file}: invalid YAML at ${problems[0]}`, file, problems);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES });
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      throw new ConfigError(
        `${file}: YAML aliases (*name) expand to too much data (more than ${MAX_CONFIG_ALIASES} expansions, as in an alias bomb); write the values out instead`,
        file,
      );
    }
    throw error;
  }
}

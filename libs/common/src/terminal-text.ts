/**
 * Text made safe to print to a terminal. Run names, class folder names, paths and error messages
 * come from configs, datasets, shared databases and imported runs; an ESC sequence among them
 * could clear the screen, move the cursor over earlier output, retitle the window or hide text.
 * Every control character except newline and tab, and the bidirectional overrides that reorder
 * what is shown, is printed as a visible escape (`\x1b`, `\u202e`) instead.
 */

// C0 controls but \t and \n, DEL, C1 controls (U+009B is a one-character CSI), line and paragraph
// separators and the bidirectional embedding, override and isolate controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

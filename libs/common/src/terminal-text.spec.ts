import { terminalSafe } from './terminal-text';

describe('terminalSafe', () => {
  it('shows escape sequences, carriage returns and C1 controls as text, keeps newlines, tabs and letters', () => {
    expect(terminalSafe('evil\u001b]0;pwned\u0007\u001b[2J')).toBe('evil\\x1b]0;pwned\\x07\\x1b[2J');
    expect(terminalSafe('ok\rfake line')).toBe('ok\\x0dfake line');
    expect(terminalSafe('a\u009b31mb')).toBe('a\\x9b31mb');
    expect(terminalSafe('right\u202eto left')).toBe('right\\u202eto left');
    expect(terminalSafe('line 1\nline 2\tcol')).toBe('line 1\nline 2\tcol');
    expect(terminalSafe('ünïcödé 花 ✓')).toBe('ünïcödé 花 ✓');
    expect(terminalSafe('\u0000\u007f')).toBe('\\x00\\x7f');
  });
});

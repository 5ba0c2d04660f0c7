import { renderIndexPage } from './index-page';

describe('renderIndexPage', () => {
  const run = {
    id: '0123456789abcdef', name: 'flowers', status: 'completed', startTime: '2026-11-30T00:00:00Z',
    testAccuracy: 0.8912, testMacroF1: 0.88765, durationMs: 12345,
  };

  it('lists runs with formatted metrics', () => {
    const html = renderIndexPage([run], 'results/runs.sqlite');
    expect(html).toContain('<td>flowers</td>');
    expect(html).toContain('89.12%');
    expect(html).toContain('0.8877');
    expect(html).toContain('12.3s');
  });

  it('escapes user-controlled strings', () => {
    const html = renderIndexPage([{ ...run, name: '<img src=x onerror=alert(1)>' }], '<db>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
  });
});

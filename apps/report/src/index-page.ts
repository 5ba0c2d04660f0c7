import Handlebars from 'handlebars';

/** One row of the runs table. */
export interface RunRow {
  id: string;
  name: string;
  status: string;
  startTime: string;
  testAccuracy: number | null;
  testMacroF1: number | null;
  durationMs: number | null;
}

const template = Handlebars.compile(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Runs</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; }
th, td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #b00020; }
</style>
</head>
<body>
<h1>Runs</h1>
<p>{{runs.length}} run(s) in <code>{{dbPath}}</code>.</p>
<table>
<thead><tr><th>name</th><th>run</th><th>status</th><th>started</th><th>test accuracy</th><th>test macro-F1</th><th>duration</th></tr></thead>
<tbody>
{{#each runs}}
<tr class="{{status}}"><td>{{name}}</td><td><code>{{shortId}}</code></td><td>{{status}}</td><td>{{startTime}}</td>
<td class="num">{{accuracy}}</td><td class="num">{{macroF1}}</td><td class="num">{{duration}}</td></tr>
{{/each}}
</tbody>
</table>
</body>
</html>
`);

const fmt = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));

/** The index page: every run, newest first. Handlebars escapes every value. */
export function renderIndexPage(runs: readonly RunRow[], dbPath: string): string {
  return template({
    dbPath,
    runs: runs.map((r) => ({
      ...r,
      shortId: r.id.slice(0, 8),
      accuracy: r.testAccuracy === null ? '–' : `${fmt(100 * r.testAccuracy, 2)}%`,
      macroF1: fmt(r.testMacroF1, 4),
      duration: r.durationMs === null ? '–' : `${(r.durationMs / 1000).toFixed(1)}s`,
    })),
  });
}

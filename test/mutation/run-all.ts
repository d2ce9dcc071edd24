// `npm run test:mutation`: every group of groups.json in turn (one Stryker run each, so each group
// finishes in minutes and keeps its incremental file even if a later group is stopped). Extra
// arguments name the groups to run: `npm run test:mutation -- device physics`. Runs at nice 5: the
// machine is shared.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const groups = Object.keys(JSON.parse(readFileSync(new URL('./groups.json', import.meta.url), 'utf8')) as Record<string, unknown>);
const asked = process.argv.slice(2);
const unknown = asked.filter((g) => !groups.includes(g));
if (unknown.length > 0) {
  console.error(`unknown mutation group(s) ${unknown.join(', ')}; the groups are ${groups.join(', ')}`);
  process.exit(2);
}
for (const group of asked.length > 0 ? asked : groups) {
  const started = Date.now();
  const r = spawnSync('nice', ['-n', '5', 'npx', 'stryker', 'run'], { stdio: 'inherit', env: { ...process.env, EDN_MUTATION_GROUP: group } });
  console.log(`mutation group ${group}: exit ${r.status ?? r.signal}, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

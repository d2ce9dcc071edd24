// The command table of src/cli/main.ts: `edn --help` lists it without loading any command, so the
// table's names must be the names of the commands it loads.
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../../src/cli/main.js';
import { memoryIO } from './memory-io.js';

describe('the edn command table', () => {
  it('loads, for every entry, the command of that name, whose usage begins with it', async () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.usage.startsWith(`Usage: edn ${entry.name} `) || command.usage === `Usage: edn ${entry.name}`).toBe(true);
      expect(entry.summary).toMatch(/^[a-z].{10,90}[^.]$/); // one line, lower case, no full stop
    }
  });

  it('edn --help lists every entry with its summary, in the table order', async () => {
    const io = memoryIO(process.cwd());
    expect(await main(['--help'], io)).toBe(0);
    const listed = io.stdout.text.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/));
    expect(listed).toEqual(COMMANDS.map((c) => [c.name, c.summary]));
  });
});

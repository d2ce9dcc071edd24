import { interval, take, toArray, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from './virtual-time.js';

describe('ManualScheduler', () => {
  it('runs periodic work at exact virtual times and stands at the target afterwards', async () => {
    const s = new ManualScheduler();
    const seen: number[] = [];
    const done = firstValueFrom(interval(250, s).pipe(take(4), toArray()));
    const sub = interval(250, s).subscribe(() => seen.push(s.now()));
    s.advance(1000);
    sub.unsubscribe();
    expect(seen).toEqual([250, 500, 750, 1000]);
    expect(await done).toEqual([0, 1, 2, 3]);
    s.advance(33);
    expect(s.now()).toBe(1033);
  });

  it('does not run work that is due after the target', () => {
    const s = new ManualScheduler();
    let ran = false;
    s.schedule(() => {
      ran = true;
    }, 1001);
    s.advance(1000);
    expect(ran).toBe(false);
    s.advance(1);
    expect(ran).toBe(true);
  });

  it('refuses to go back in time', () => {
    const s = new ManualScheduler();
    s.advance(10);
    expect(() => s.advanceTo(5)).toThrow(/back in time/);
  });
});

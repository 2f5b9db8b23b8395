import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandPattern, expandPatterns } from '../../src/pipeline/glob.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-glob-');
afterAll(() => tmp.cleanup());
for (const f of ['BTC/1h/BTC-1h-2023.csv', 'BTC/1h/BTC-1h-2022.csv', 'BTC/1h/notes.txt', 'ETH/1h/ETH-1h-2022.csv', 'BTC/2h/BTC-2h.csv']) {
  mkdirSync(join(tmp.dir, f, '..'), { recursive: true });
  writeFileSync(join(tmp.dir, f), '');
}

describe('expandPattern', () => {
  it('matches * and ? within a segment, in any segment, sorted', () => {
    expect(expandPattern('BTC/1h/*.csv', tmp.dir)).toEqual([join(tmp.dir, 'BTC/1h/BTC-1h-2022.csv'), join(tmp.dir, 'BTC/1h/BTC-1h-2023.csv')]);
    expect(expandPattern('*/1h/*-1h-2022.csv', tmp.dir)).toEqual([join(tmp.dir, 'BTC/1h/BTC-1h-2022.csv'), join(tmp.dir, 'ETH/1h/ETH-1h-2022.csv')]);
    expect(expandPattern(join(tmp.dir, 'BTC/?h/BTC-?h.csv'), '/elsewhere')).toEqual([join(tmp.dir, 'BTC/2h/BTC-2h.csv')]);
    expect(expandPattern('BTC/1h/BTC-1h-2022.csv', tmp.dir)).toEqual([join(tmp.dir, 'BTC/1h/BTC-1h-2022.csv')]);
  });

  it('refuses a pattern that matches nothing, naming it and where it looked', () => {
    expect(() => expandPatterns(['BTC/1d/*.csv'], tmp.dir, 'x.json: venue.files.BTC')).toThrow(/x\.json: venue\.files\.BTC: the pattern "BTC\/1d\/\*\.csv" matches no file \(resolved against /);
    expect(expandPatterns(['BTC/1h/*.csv', 'BTC/1h/BTC-1h-2023.csv'], tmp.dir, 'w')).toHaveLength(2);
  });
});

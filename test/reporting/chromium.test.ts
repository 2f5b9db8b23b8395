/**
 * Opens a report made from real data in headless Chromium (Debian's package at /usr/bin/chromium, installed by
 * .ci/run) and checks what a reader sees: every chart renders (one <svg> per chart with a non-zero box and marks
 * inside), the SVGs parse as XML, and the page logs no console error and makes no request but its own file.
 * Under CI=true a missing Chromium fails the test; elsewhere it is skipped with a message.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportModel, writeReport, type ReportModel } from '../../src/reporting/index.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { tempDir } from '../helpers/tmp.ts';
import { MARKETS, realReportInput } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const present = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!present && !inCi) process.stderr.write(`chromium.test.ts: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it).\n`);

describe.runIf(present || inCi)('the HTML report in headless Chromium', () => {
  const tmp = tempDir('liqcal-chromium-');
  let store: Store;
  let model: ReportModel;
  let html: string;

  beforeAll(async () => {
    store = openStore(tmp.path('report.db'));
    model = buildReportModel(await realReportInput(store));
    html = (await writeReport(model, tmp.path('out'))).html;
  });
  afterAll(() => {
    store?.close();
    tmp.cleanup();
  });

  it('renders every chart, with no console error and no request but the page itself', async () => {
    expect(existsSync(CHROMIUM), `Chromium is required under CI=true: ${CHROMIUM} is missing (.ci/run installs Debian's chromium).`).toBe(true);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'liqcal-chromium-profile-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 900 } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(html).href;
      const response = await page.goto(url, { waitUntil: 'load' });
      expect(response?.ok() ?? true).toBe(true);

      // Runs in the page (a string: this project type-checks without the DOM library).
      const charts = (await page.evaluate(`[...document.querySelectorAll('figure.chart')].map((f) => {
        const svg = f.querySelector(':scope > svg');
        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
        const marks = svg ? [...svg.querySelectorAll('g.role-mark > *')] : [];
        const drawn = marks.filter((el) => { const b = el.getBBox(); return b.width > 0 || b.height > 0; });
        const parsed = svg ? new DOMParser().parseFromString(new XMLSerializer().serializeToString(svg), 'image/svg+xml') : null;
        return {
          id: f.id, width: box.width, height: box.height, marks: marks.length, drawn: drawn.length,
          xmlError: parsed === null || parsed.getElementsByTagName('parsererror').length > 0,
          title: f.querySelector('figcaption strong')?.textContent ?? '', texts: svg ? [...svg.querySelectorAll('text')].map((t) => t.textContent ?? '') : [],
        };
      })`)) as { id: string; width: number; height: number; marks: number; drawn: number; xmlError: boolean; title: string; texts: string[] }[];
      // The policy comparison stands with the trade-offs near the top, then each market's three charts.
      expect(charts.map((c) => c.id)).toEqual(['policies', ...MARKETS.flatMap((m) => [`${m}-volatility`, `${m}-margin`, `${m}-spike`])]);
      expect(await page.locator('svg').count()).toBe(charts.length);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(300);
        expect(c.height, c.id).toBeGreaterThan(150);
        expect(c.drawn, c.id).toBeGreaterThan(0);
        expect(c.xmlError, c.id).toBe(false);
        expect(c.texts, c.id).toContain(c.title.replace(/\.$/, ''));
      }
      // The volatility chart draws two lines (forecast and realised); the margin chart its breaches as symbols.
      const vol = charts.find((c) => c.id === `${MARKETS[0]}-volatility`)!;
      expect(vol.drawn).toBeGreaterThanOrEqual(2);
      const breaches = model.series.find((s) => s.market === MARKETS[0])!.breachTimeMs.length;
      expect(breaches).toBeGreaterThan(0);
      expect(charts.find((c) => c.id === `${MARKETS[0]}-margin`)!.drawn).toBeGreaterThanOrEqual(1 + breaches);

      const tables = await page.locator('table').count();
      expect(tables).toBeGreaterThan(MARKETS.length * 2);
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package at /usr/bin/chromium, driven by
 * playwright-core (which never downloads a browser of its own). Each page gets a fresh profile in a
 * temporary directory, every request it makes is routed through here and recorded, and anything other
 * than the opened file itself is aborted, so a test can assert that a page is self-contained.
 *
 * The browser project's global setup (test/browser/global-setup.ts) finds or installs Chromium:
 *   - installed: the tests run;
 *   - missing, root with apt-get: installs Debian's `chromium` (as the Samba setup installs Samba);
 *   - missing otherwise: CI (CI=true) fails; a developer's run skips the browser tests loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_PACKAGES = ['chromium'];
/** Screenshots and PDFs the browser tests keep (gitignored). */
export const ARTIFACT_ROOT = resolve(import.meta.dirname, '../../test-artifacts');

/** The flags the browser runs with (Playwright adds --headless and --user-data-dir itself, from headless/userDataDir). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export type ChromiumAvailability = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly why: string };

/** Finds Debian's chromium; as root with apt-get installs it when missing (unless `install: false`). Never throws. */
export function ensureChromium(log: (s: string) => void = console.log, opts: { readonly path?: string; readonly install?: boolean } = {}): ChromiumAvailability {
  const path = opts.path ?? CHROMIUM_PATH;
  if (existsSync(path)) return { ok: true, path };
  const install = `apt-get install -y ${CHROMIUM_PACKAGES.join(' ')}`;
  if (opts.install === false || process.getuid?.() !== 0 || !has('apt-get')) return { ok: false, why: `${path} is missing; install Debian's chromium with: ${install}` };
  log(`[chromium] installing ${CHROMIUM_PACKAGES.join(' ')} from Debian's packages...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...CHROMIUM_PACKAGES]]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, why: `apt-get ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-1500)}` };
  }
  return existsSync(path) ? { ok: true, path } : { ok: false, why: `${install} ran but ${path} is still missing` };
}

/** What the browser project does with a lookup: run, skip loudly (a developer's run), or fail (CI=true). */
export function chromiumDecision(found: ChromiumAvailability, env: NodeJS.ProcessEnv): { readonly run: string } | { readonly skip: string } | { readonly fail: string } {
  if (found.ok) return { run: found.path };
  if (env['CI'] === 'true') return { fail: `CI=true and no headless Chromium for the browser tests: ${found.why}` };
  return { skip: found.why };
}

export interface RecordedRequest {
  readonly url: string;
  readonly resourceType: string;
  /** true: the opened file itself (allowed); false: anything else (aborted, and a test failure). */
  readonly allowed: boolean;
}

export interface OpenedPage {
  readonly page: Page;
  readonly url: string;
  /** Every request the page made, in order, the opened file included. */
  readonly requests: RecordedRequest[];
  /** The requests other than the file itself (each was aborted). */
  foreignRequests(): RecordedRequest[];
  /** document.body.innerText: the text as rendered (hidden elements excluded). */
  innerText(): Promise<string>;
  /** Rows (tr) in tbody of the tables matching `selector`. */
  countRows(selector?: string): Promise<number>;
  /** A full-page PNG into test-artifacts/<folder>/<name>.png; returns (and prints) the path. */
  screenshot(folder: string, name: string): Promise<string>;
  /** The page printed (print media, A4) into test-artifacts/<folder>/<name>.pdf; returns path and bytes. */
  pdf(folder: string, name: string): Promise<{ path: string; bytes: Buffer }>;
}

export interface HeadlessChromium {
  /** Opens a local file (absolute path) in a new page and waits for its load event. */
  open(file: string): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** Launches /usr/bin/chromium headless with a fresh profile directory (removed on close). */
export async function launchChromium(executablePath: string = CHROMIUM_PATH): Promise<HeadlessChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'rolemap-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      // No service workers that could answer requests out of our sight.
      serviceWorkers: 'block',
      offline: false,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const pages: Page[] = [];
  return {
    async open(file: string): Promise<OpenedPage> {
      const url = pathToFileURL(resolve(file)).href;
      const page = await context.newPage();
      pages.push(page);
      const requests: RecordedRequest[] = [];
      // Every request reaches one of these two: route() for the ones Playwright can intercept
      // (http, https, ws...), the request event for all (file: and data: included).
      const seen = new Set<unknown>();
      const record = (reqUrl: string, resourceType: string, key: unknown): boolean => {
        const allowed = reqUrl === url;
        if (!seen.has(key)) {
          seen.add(key);
          requests.push({ url: reqUrl, resourceType, allowed });
        }
        return allowed;
      };
      await page.route('**/*', async (route) => {
        const req = route.request();
        if (record(req.url(), req.resourceType(), req)) await route.continue();
        else await route.abort('blockedbyclient');
      });
      page.on('request', (req) => record(req.url(), req.resourceType(), req));
      await page.goto(url, { waitUntil: 'load' });
      // Let late requests (fonts, lazy images) show up before anyone counts them.
      await page.waitForLoadState('networkidle');
      const artifact = (folder: string, name: string, ext: string): string => {
        const dir = join(ARTIFACT_ROOT, folder);
        mkdirSync(dir, { recursive: true });
        return join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.${ext}`);
      };
      return {
        page,
        url,
        requests,
        foreignRequests: () => requests.filter((r) => !r.allowed),
        innerText: () => page.evaluate(() => document.body.innerText),
        countRows: (selector = 'table') => page.evaluate((sel) => Array.from(document.querySelectorAll(sel)).reduce((n, t) => n + t.querySelectorAll(':scope > tbody > tr').length, 0), selector),
        async screenshot(folder, name) {
          const path = artifact(folder, name, 'png');
          await page.screenshot({ path, fullPage: true });
          console.log(`[chromium] screenshot: ${path}`);
          return path;
        },
        async pdf(folder, name) {
          const path = artifact(folder, name, 'pdf');
          await page.emulateMedia({ media: 'print' });
          const bytes = await page.pdf({ path, format: 'A4', preferCSSPageSize: true, printBackground: true });
          await page.emulateMedia({ media: 'screen' });
          console.log(`[chromium] pdf: ${path}`);
          return { path, bytes };
        },
      };
    },
    async close(): Promise<void> {
      try {
        for (const p of pages) await p.close().catch(() => undefined);
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

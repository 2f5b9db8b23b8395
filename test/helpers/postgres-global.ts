/**
 * vitest globalSetup: a throwaway PostgreSQL server for the parameter-store tests.
 *
 * When the PostgreSQL binaries exist (on PATH, in $LIQCAL_PG_BIN, or Debian's /usr/lib/postgresql/N/bin), this runs
 * initdb into a fresh temporary directory and starts the server on a free 127.0.0.1 port (as the `postgres` user when
 * running as root, since PostgreSQL refuses to run as root), provides its URL to the tests (`inject('pgUrl')`, and
 * $LIQCAL_TEST_PG_URL), and stops and deletes it on teardown. A URL already in $LIQCAL_TEST_PG_URL is used as is.
 * Without binaries: under CI=true the run fails (CI must test PostgreSQL); elsewhere the PostgreSQL tests skip.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection URL of the test PostgreSQL server, or '' when there is none. */
    pgUrl: string;
    /** Why there is no server (a sentence for skip messages), or '' when there is one. */
    pgSkipReason: string;
  }
}

/** Directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const has = (dir: string): boolean => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  if (env.LIQCAL_PG_BIN) return has(env.LIQCAL_PG_BIN) ? env.LIQCAL_PG_BIN : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && has(dir)) return dir;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin');
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. Throws with its output on failure. */
function runPg(bin: string, args: readonly string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${[cmd, ...argv].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}${r.stdout}`);
}

/**
 * A detached shell that outlives vitest: if vitest dies without running the teardown (killed, crashed, Ctrl-C twice),
 * it stops the server and deletes its directory, so no PostgreSQL is left running on the machine.
 */
function startWatchdog(binDir: string, dir: string, data: string): ChildProcess {
  const asRoot = process.getuid?.() === 0;
  const script = `while kill -0 "$OWNER" 2>/dev/null; do sleep 1; done
if [ -f "$DATA/postmaster.pid" ]; then ${asRoot ? 'runuser -u postgres -- ' : ''}"$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1; fi
rm -rf "$DIR"`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, OWNER: String(process.pid), DATA: data, DIR: dir, BIN: binDir } });
  child.unref();
  return child;
}

/** Starts the server (see the file comment); returns the teardown. */
export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.LIQCAL_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgSkipReason', '');
    return () => undefined;
  }
  const binDir = findPostgresBin();
  if (!binDir) {
    const reason = 'PostgreSQL binaries (initdb, pg_ctl) were not found on PATH, in $LIQCAL_PG_BIN or under /usr/lib/postgresql; install the Debian package `postgresql` to run the PostgreSQL tests.';
    if (process.env.CI === 'true') throw new Error(`CI must run the PostgreSQL tests: ${reason}`);
    process.stderr.write(`postgres-global: skipping PostgreSQL tests. ${reason}\n`);
    project.provide('pgUrl', '');
    project.provide('pgSkipReason', reason);
    return () => undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'liqcal-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const watchdog = startWatchdog(binDir, dir, data);
  const stop = (): void => {
    try { if (existsSync(join(data, 'postmaster.pid'))) runPg(join(binDir, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']); } finally {
      rmSync(dir, { recursive: true, force: true });
      try { if (watchdog.pid) process.kill(watchdog.pid); } catch { /* already gone */ }
    }
  };
  try {
    // Durability is irrelevant for a throwaway test server: --no-sync and fsync=off keep start-up and tests fast.
    runPg(join(binDir, 'initdb'), ['-D', data, '-U', 'liqcal', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        runPg(join(binDir, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '30', '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=200`, 'start']);
        break;
      } catch (e) {
        // Another process may have taken the port between probe and bind; try a new one a few times.
        if (attempt >= 2) throw new Error(`${(e as Error).message}\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
      }
    }
    const url = `postgres://liqcal@127.0.0.1:${port}/postgres`;
    process.env.LIQCAL_TEST_PG_URL = url;
    project.provide('pgUrl', url);
    project.provide('pgSkipReason', '');
  } catch (e) {
    stop();
    throw e;
  }
  return stop;
}

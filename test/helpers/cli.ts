import { spawn, type ChildProcess } from 'node:child_process';

/** Path of the liqcal bin. */
export const BIN = new URL('../../src/cli/bin.js', import.meta.url).pathname;

/** Runs `liqcal ARGS` in a child process (a real process, as an operator would) and collects its output. */
export function runCli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawnCli(args, opts);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Spawns `liqcal ARGS` without waiting (crash tests kill it). */
export function spawnCli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? process.cwd(), env: { ...process.env, TZ: 'UTC', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

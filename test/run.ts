// `npm test`: the whole suite (or the files given) under tap, with one narrow second chance.
//
// A test file whose Node process was killed by a crash of the runtime itself (SIGILL, SIGTRAP,
// SIGSEGV, SIGBUS, SIGABRT) is run once more, and the run says so. The one such crash seen here
// is V8's own "Check failed: jit_page.has_value()" while PGlite's WebAssembly code is compiled
// and freed (nodejs/node#64500, open upstream): it is not something a test or the messenger can
// cause or fix; tests run WebAssembly on Liftoff only (package.json's tap node-arg, as the router
// does), which avoids the tier-up that frees code pages, but the runtime's own crash is still not
// the suite's to fail on. Everything else fails the run as tap reports it: an assertion, a timeout (tap
// ends a file with SIGTERM), a file that crashes twice, or a crash next to any other failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNTIME_CRASHES = new Set(['SIGILL', 'SIGTRAP', 'SIGSEGV', 'SIGBUS', 'SIGABRT']);

/** Runs tap with `args`, echoing its output, and returns its exit code and the output. */
function tap(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('tap', args, { stdio: ['inherit', 'pipe', 'inherit'], shell: false });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/**
 * The test files that tap reports as ended by a signal with no failed assertion before it, with
 * that signal. A file that failed an assertion and then crashed is not in it: it is not retried.
 */
export function crashedFiles(output: string): Map<string, string> {
  const crashed = new Map<string, string>();
  let assertionFailed = false;
  let file: string | undefined;
  for (const line of output.split('\n')) {
    if (/^# Subtest: /.test(line)) assertionFailed = false;
    else if (/^\s+not ok \d+/.test(line)) assertionFailed = true;
    const failed = /^not ok \d+ - (\S+)/.exec(line);
    if (failed) file = assertionFailed ? undefined : failed[1];
    else if (/^\S/.test(line)) file = undefined;
    const signal = file && /^ {2}signal: (SIG[A-Z]+)\s*$/.exec(line);
    if (file && signal?.[1]) crashed.set(file, signal[1]);
  }
  return crashed;
}

/** tap's closing `# { total, pass, fail }` line, read back. */
function summary(output: string): { pass: number; fail: number } | undefined {
  const line = output.match(/^# \{ total: \d+.*$/gm)?.at(-1);
  if (!line) return undefined;
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(line)?.[1] ?? 0);
  return { pass: count('pass'), fail: count('fail') };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'messenger-test-'));
  const failedList = join(dir, 'failed');
  try {
    const first = await tap([`--save=${failedList}`, ...process.argv.slice(2)]);
    if (first.code === 0) return 0;
    let failed: string[] = [];
    try {
      failed = readFileSync(failedList, 'utf8').split('\n').filter(Boolean);
    } catch {
      return first.code; // tap failed before it ran any file
    }
    const crashed = crashedFiles(first.output);
    const retriable = failed.length > 0 && failed.every((f) => RUNTIME_CRASHES.has(crashed.get(f) ?? ''));
    if (!retriable) return first.code;
    for (const f of failed) {
      process.stderr.write(`\nnpm test: ${f} was killed by ${crashed.get(f)} (a crash of the Node runtime, not a failed assertion); running it once more\n`);
    }
    const again = await tap(failed);
    // One closing summary for the whole run, in tap's own format, for whoever reads the last one
    // (`.ci/run` does): the crashed attempts count as the retried files' results, not as failures.
    const [a, b] = [summary(first.output), summary(again.output)];
    if (a && b) {
      const fail = Math.max(0, a.fail - failed.length) + b.fail;
      process.stdout.write(`# { total: ${a.pass + b.pass + fail}, pass: ${a.pass + b.pass}, fail: ${fail} }\n`);
    }
    return again.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();

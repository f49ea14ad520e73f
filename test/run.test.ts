// `npm test` gives a second chance only to a file the Node runtime itself killed (test/run.ts).
import t from 'tap';
import { crashedFiles } from './run.ts';

const block = (file: string, inner: string[], signal: string | null) => [
  `# Subtest: ${file}`,
  ...inner.map((l) => `    ${l}`),
  `not ok 1 - ${file} # time=8671.455ms`,
  '  ---',
  `  externalID: ${file}`,
  '  exitCode: ' + (signal ? 'null' : '1'),
  `  signal: ${signal ?? 'null'}`,
  '  ...',
  '',
];

t.test('a file killed by the runtime with no failed assertion is the only one retried', async (t) => {
  const output = [
    'TAP version 14',
    ...block('router/test/signin.limit.test.ts', ['# Subtest: limits', '    ok 1 - first', '    # test count(1) != plan(null)'], 'SIGILL'),
    ...block('router/test/failed.test.ts', ['# Subtest: x', '    not ok 1 - boom'], 'SIGSEGV'),
    ...block('router/test/exited.test.ts', ['# Subtest: x', '    ok 1 - fine'], null),
    ...block('router/test/timeout.test.ts', ['# Subtest: x', '    ok 1 - fine'], 'SIGTERM'),
    '# { total: 5, pass: 2, fail: 4 }',
  ].join('\n');
  const crashed = crashedFiles(output);
  t.same([...crashed.keys()].sort(), ['router/test/signin.limit.test.ts', 'router/test/timeout.test.ts']);
  t.equal(crashed.get('router/test/signin.limit.test.ts'), 'SIGILL');
  // The runner retries only the crash signals; SIGTERM is tap's timeout and stays a failure.
  t.equal(crashed.get('router/test/timeout.test.ts'), 'SIGTERM');
});

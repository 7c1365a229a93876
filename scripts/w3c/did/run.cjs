// node run.cjs SERVER_DIR OUT_DIR IMPLEMENTATION_FILE...
//
// Runs the jest suites of w3c/did-test-suite's did-core-test-server (SERVER_DIR) on the given
// implementation files only, much as its services/runSuite.js does: jest.runCLI with the
// suite's configuration in the systemSuiteConfig global, which each *.spec.js merges over its
// default.js list of every registered implementation. The global is set by setup.cjs from a
// JSON file rather than through jest's `globals` option (see setup.cjs). did-production gets the DID v1.0 and
// v1.1 variants of each file, as its default.js does. did-consumption, which the suite's
// suite-config.js leaves out, runs too.
//
// Prints per suite the passed/failed counts and the failing tests (jest's full test name plus
// the first line of the failure); writes OUT_DIR/jest-SUITE.json (jest's results) and
// OUT_DIR/summary.json. Exit status 3 when a suite that has files to test ran no test.
'use strict';
const fs = require('fs');
const path = require('path');

const [serverDir, outDir, ...files] = process.argv.slice(2);
if(!serverDir || !outDir || files.length === 0) {
  console.error('usage: node run.cjs SERVER_DIR OUT_DIR IMPLEMENTATION_FILE...');
  process.exit(2);
}
const jest = require(path.join(serverDir, 'node_modules', 'jest'));
const {addDidv11Implementations} = require(path.join(serverDir, 'suites', 'utils.js'));
const load = f => JSON.parse(fs.readFileSync(f, 'utf8'));
const base = f => path.basename(f);
const methods = files.filter(f => base(f).startsWith('did-')).map(load);
const resolvers = files.filter(f => base(f).startsWith('resolver-')).map(load);
const dereferencers = files.filter(f => base(f).startsWith('dereferencer-')).map(load);
const clone = v => JSON.parse(JSON.stringify(v)); // the suites add members to what they are given

const suites = [
  ['did-identifier', () => ({didMethods: clone(methods)}), methods.length],
  ['did-core-properties', () => ({didMethods: clone(methods)}), methods.length],
  ['did-production', () => ({didMethods: addDidv11Implementations(clone(methods))}), methods.length],
  ['did-consumption', () => ({didMethods: clone(methods)}), methods.length],
  ['did-resolution', () => ({resolvers: clone(resolvers)}), resolvers.length],
  ['did-url-dereferencing', () => ({dereferencers: clone(dereferencers)}), dereferencers.length],
];

(async () => {
  fs.mkdirSync(outDir, {recursive: true});
  const summary = {};
  let broken = false;
  for(const [name, config, n] of suites) {
    if(n === 0) {
      console.log(`== ${name}: not run (no implementation file for it)`);
      summary[name] = {skipped: true};
      continue;
    }
    const configFile = path.join(outDir, `config-${name}.json`);
    fs.writeFileSync(configFile, JSON.stringify(config()));
    process.env.CREDENCE_DID_SUITE_CONFIG = configFile;
    const {results} = await jest.runCLI({
      roots: [path.join(serverDir, 'suites', name)],
      setupFiles: [path.join(__dirname, 'setup.cjs')],
      runInBand: true,
      silent: true,
      ci: true,
      cache: false,
      reporters: [],
    }, [serverDir]);
    fs.writeFileSync(path.join(outDir, `jest-${name}.json`), JSON.stringify(results, null, 2));
    const failing = [];
    for(const file of results.testResults) {
      if(file.failureMessage && file.testResults.length === 0) failing.push({name: base(file.testFilePath), message: file.failureMessage});
      for(const t of file.testResults) {
        if(t.status === 'failed') {
          const msg = (t.failureMessages[0] || '').split('\n').map(l => l.trim()).filter(Boolean);
          const titles = t.ancestorTitles.filter(a => !a.startsWith('suites/') && !a.startsWith('IMPLEMENTATION ::'));
          failing.push({name: [...titles, t.title].join(' › '), message: msg.slice(0, 4).join(' | ')});
        }
      }
    }
    const s = {passed: results.numPassedTests, failed: results.numFailedTests, todo: results.numTodoTests,
      total: results.numTotalTests, failing};
    summary[name] = s;
    console.log(`== ${name}: ${s.passed} passed, ${s.failed} failed, ${s.todo} todo (${s.total} tests)`);
    for(const f of failing) console.log(`  FAIL ${f.name}\n       ${f.message.slice(0, 400)}`);
    if(s.total === 0) broken = true;
  }
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  process.exit(broken ? 3 : 0);
})().catch(e => {
  console.error(e.stack || String(e));
  process.exit(1);
});

// node report.cjs SUITE_DIR MOCHA_JSON [NAME]: scripts/w3c-jose-suite's report of a run of the
// vc-jose-cose-test-suite. For each test of the suite's tests/test-mapping.js, in order: mocha's
// state (PASS, FAIL, skip), the feature, the expected result and the one implementation NAME
// (default Credence) wrote to tests/output/NUMBER-NAME.json, with its data (for a failure or an
// "indeterminate", Credence's reason); then passing, failing and skipped counts per feature.
const fs = require('fs');
const path = require('path');
const {pathToFileURL} = require('url');

const [suite, mochaFile, name = 'Credence'] = process.argv.slice(2);
const abbr = (s, n) => s.length > n ? s.slice(0, n) + '…' : s;

function states(mocha) {
  const m = new Map();
  for(const [state, tests] of [['PASS', mocha.passes], ['FAIL', mocha.failures], ['skip', mocha.pending]]) {
    for(const t of tests) {
      m.set(t.title, state);
    }
  }
  return m;
}

function output(number) {
  try {
    return JSON.parse(fs.readFileSync(path.join(suite, 'tests/output', `${number}-${name}.json`), 'utf8'));
  } catch(e) {
    return {result: '(no output)', data: ''};
  }
}

(async () => {
  const mapping = await import(pathToFileURL(path.join(suite, 'tests/test-mapping.js')));
  const state = states(JSON.parse(fs.readFileSync(mochaFile, 'utf8')));
  const counts = {};
  for(const tests of [mapping.JOSETestMapping, mapping.SDJWTTestMapping, mapping.COSETestMapping]) {
    for(const [title, t] of Object.entries(tests)) {
      const s = state.get(title) || 'not run';
      const c = counts[t.feature] = counts[t.feature] || {PASS: 0, FAIL: 0, skip: 0, 'not run': 0};
      c[s]++;
      let line = `${s.padEnd(4)} ${title} [${t.feature}]`;
      if(s !== 'skip') {
        const out = output(t.number);
        line += `: expected ${t.expected_result}, got ${out.result}`;
        const data = String(out.data || '');
        if(data) {
          line += '\n       ' + (out.result === 'success' && t.fn === 'issue' ? 'token ' + abbr(data, 60) : abbr(data, 300));
        }
      }
      console.log(line);
    }
  }
  console.log('by feature:');
  for(const [feature, c] of Object.entries(counts)) {
    console.log(`  ${feature.padEnd(18)} ${c.PASS} passing, ${c.FAIL} failing, ${c.skip} skipped` +
      (c['not run'] ? `, ${c['not run']} not run` : ''));
  }
})().catch(e => {
  console.error('report.cjs:', e.message);
  process.exit(1);
});

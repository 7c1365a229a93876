// node summarize.cjs mocha-FORMAT.json        -> "passing/failing/pending" and failing titles
// node summarize.cjs proxy-FORMAT.jsonl [all] -> HTTP exchanges per failed test (every test with "all");
//                                                W=<chars> sets the excerpt width (default 700)
const fs = require('fs');
const file = process.argv[2];
if(file.endsWith('.json')) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(`${r.stats.passes} passing, ${r.stats.failures} failing, ${r.stats.pending} pending (${r.stats.tests} tests)`);
  for(const t of r.failures) console.log('  FAIL ' + t.fullTitle + (t.err && t.err.message ? '\n       ' + t.err.message.split('\n')[0].slice(0, 160) : ''));
  process.exit(0);
}
const all = process.argv[3] === 'all';
const width = +process.env.W || 700;
const abbr = s => s.length > width ? s.slice(0, width) + '…' : s;
// Exchanges between tests (a "before all" hook's) form a group of their own, shown when one
// of them got an error status.
let cur = null, last = 'the start'; const groups = [];
for(const l of fs.readFileSync(file, 'utf8').trim().split('\n').map(JSON.parse)) {
  if(l.test) { cur = {test: l.test, reqs: []}; groups.push(cur); }
  else if(l.end) { if(cur) { cur.state = l.end; last = cur.test; } cur = null; }
  else {
    if(!cur) { cur = {test: '(between tests, after ' + last + ')', reqs: [], hook: true}; groups.push(cur); }
    cur.reqs.push(l);
  }
}
for(const g of groups) {
  if(g.hook) g.state = g.reqs.some(r => r.status >= 400) ? 'failed' : 'passed';
  if(!all && g.state !== 'failed') continue;
  console.log('=== [' + g.state + '] ' + g.test);
  for(const r of g.reqs) {
    let req = r.req;
    try {
      const j = JSON.parse(r.req);
      req = JSON.stringify(j.verifiableCredential || j.verifiablePresentation || j.credential) + ' opts=' + JSON.stringify(j.options);
    } catch(e) {}
    console.log(`  ${r.method} ${r.url} -> ${r.status}\n    REQ ${abbr(req)}\n    RES ${abbr(r.res)}`);
  }
}

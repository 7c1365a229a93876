// mocha root hooks (--require) for scripts/w3c-vc-suite: mark test boundaries in the
// proxy's exchange log ($W3C_PROXY_LOG), so summarize.cjs can map requests to tests.
const fs = require('fs');
const mark = o => process.env.W3C_PROXY_LOG && fs.appendFileSync(process.env.W3C_PROXY_LOG, JSON.stringify(o) + '\n');
exports.mochaHooks = {
  beforeEach() { mark({test: this.currentTest.fullTitle()}); },
  afterEach() { mark({end: this.currentTest.state}); }
};

// credence-w3c (vc-di-eddsa-test-suite): copied into the suite checkout's root by scripts/w3c-eddsa-suite
// (the suite's vc-test-suite-implementations package loads <root>/localConfig.cjs).
// Describes the Credence endpoints behind the local TLS proxy; everything comes from the
// run file named by CREDENCE_W3C_RUN: {base, issuer: {id, did}, issuerToken, verifierToken}.
// One issuer tenant (Ed25519 key, did:credence DID) issues both cryptosuites: issue option
// format "di" is eddsa-rdfc-2022, "di-jcs" is eddsa-jcs-2022. The verifier verifies both.
const fs = require('fs');
if(!process.env.CREDENCE_W3C_RUN) {
  throw new Error('localConfig.cjs belongs to Credence\'s scripts/w3c-eddsa-suite: ' +
    'run the suite through that script (CREDENCE_W3C_RUN is not set)');
}
const run = JSON.parse(fs.readFileSync(process.env.CREDENCE_W3C_RUN, 'utf8'));
const issuer = (format, tag) => ({
  id: run.issuer.did,
  endpoint: `${run.base}/issuers/${run.issuer.id}/credentials/issue`,
  headers: {Authorization: 'Bearer ' + run.issuerToken},
  options: {format},
  supports: {vc: ['2.0']},
  tags: [tag]
});
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'Credence',
    implementation: 'Credence (eddsa-rdfc-2022, eddsa-jcs-2022)',
    issuers: [issuer('di', 'eddsa-rdfc-2022'), issuer('di-jcs', 'eddsa-jcs-2022')],
    verifiers: [{
      id: run.issuer.did,
      endpoint: `${run.base}/credentials/verify`,
      headers: {Authorization: 'Bearer ' + run.verifierToken},
      tags: ['eddsa-rdfc-2022', 'eddsa-jcs-2022']
    }]
  }]
};

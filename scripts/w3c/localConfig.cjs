// credence-w3c (vc-data-model-2.0-test-suite): copied into the suite checkout's root by scripts/w3c-vc-suite
// (the suite's vc-test-suite-implementations package loads <root>/localConfig.cjs).
// Describes the Credence endpoints behind the local TLS proxy; everything comes from the
// run file named by CREDENCE_W3C_RUN: {base, format, issuer: {id, did}, issuerToken,
// verifierToken}. format "di" tests eddsa-rdfc-2022 Data Integrity, "jwt" enveloped vc+jwt.
const fs = require('fs');
if(!process.env.CREDENCE_W3C_RUN) {
  throw new Error('localConfig.cjs belongs to Credence\'s scripts/w3c-vc-suite: ' +
    'run the suite through that script (CREDENCE_W3C_RUN is not set)');
}
const run = JSON.parse(fs.readFileSync(process.env.CREDENCE_W3C_RUN, 'utf8'));
const jwt = run.format === 'jwt';
const tags = jwt ? ['vc2.0', 'EnvelopingProof'] : ['vc2.0'];
const vheaders = {Authorization: 'Bearer ' + run.verifierToken};
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'Credence',
    implementation: 'Credence (' + (jwt ? 'vc+jwt' : 'eddsa-rdfc-2022') + ')',
    issuers: [{
      id: run.issuer.did,
      endpoint: `${run.base}/issuers/${run.issuer.id}/credentials/issue`,
      headers: {Authorization: 'Bearer ' + run.issuerToken},
      options: jwt ? {format: 'jwt'} : {},
      tags
    }],
    verifiers: [{id: run.issuer.did, endpoint: `${run.base}/credentials/verify`, headers: vheaders, tags}],
    vpVerifiers: [{id: run.issuer.did, endpoint: `${run.base}/presentations/verify`, headers: vheaders, tags}]
  }]
};

// credence-w3c (vc-api-issuer-test-suite, vc-api-verifier-test-suite): copied into each suite
// checkout's root by scripts/w3c-vcapi-suite (the suites' w3c-ccg vc-test-suite-implementations
// package loads <root>/localConfig.cjs). Describes the Credence endpoints behind the local TLS
// proxy; everything comes from the run file named by CREDENCE_W3C_RUN: {base, issuer: {id, did},
// issuerToken, verifierToken}.
// Tags: "vc-api" selects the suites' Data Integrity files (10-issuer.js, 10-vc-di.js) and "JWT"
// their JWT files (11-issuer-jwt.js, 11-vc-jwt.js). The first issuer (vc-api only) issues
// eddsa-rdfc-2022 Data Integrity, the second (vc-api and JWT) enveloped vc+jwt; 11-vc-jwt.js
// gets its valid credential from the issuer tagged JWT of the implementation named by
// ISSUER_NAME_JWT, which the script sets to "Credence". No vpVerifiers: the suites' presentation
// files (12-vp-di.js, 13-vp-jwt.js) have no tests.
const fs = require('fs');
if(!process.env.CREDENCE_W3C_RUN) {
  throw new Error('localConfig.cjs belongs to Credence\'s scripts/w3c-vcapi-suite: ' +
    'run the suites through that script (CREDENCE_W3C_RUN is not set)');
}
const run = JSON.parse(fs.readFileSync(process.env.CREDENCE_W3C_RUN, 'utf8'));
const issue = `${run.base}/issuers/${run.issuer.id}/credentials/issue`;
const iheaders = {Authorization: 'Bearer ' + run.issuerToken};
const vheaders = {Authorization: 'Bearer ' + run.verifierToken};
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'Credence',
    implementation: 'Credence',
    issuers: [
      {id: run.issuer.did, endpoint: issue, headers: iheaders, tags: ['vc-api']},
      {id: run.issuer.did, endpoint: issue, headers: iheaders, options: {format: 'jwt'}, tags: ['vc-api', 'JWT']}
    ],
    verifiers: [{id: run.issuer.did, endpoint: `${run.base}/credentials/verify`, headers: vheaders,
      tags: ['vc-api', 'JWT']}]
  }]
};

// credence-w3c (vc-bitstring-status-list-test-suite): copied into the suite checkout's root by
// scripts/w3c-status-suite (the suite's vc-test-suite-implementations package loads
// <root>/localConfig.cjs). Describes the Credence endpoints behind the local TLS proxy;
// everything comes from the run file named by CREDENCE_W3C_RUN: {base, issuer: {id, did},
// issuerToken, verifierToken}. The issuer signs eddsa-rdfc-2022 Data Integrity (the suite
// reads credentialStatus off the issued credential, so no enveloped formats) and is asked
// for one revocation and one suspension BitstringStatusListEntry per credential: Credence
// assigns status entries itself (options.credentialStatus). The suite's tests do not call a
// status update endpoint, so none is configured.
const fs = require('fs');
if(!process.env.CREDENCE_W3C_RUN) {
  throw new Error('localConfig.cjs belongs to Credence\'s scripts/w3c-status-suite: ' +
    'run the suite through that script (CREDENCE_W3C_RUN is not set)');
}
const run = JSON.parse(fs.readFileSync(process.env.CREDENCE_W3C_RUN, 'utf8'));
const tags = ['BitstringStatusList', 'Revocation', 'Suspension'];
const vheaders = {Authorization: 'Bearer ' + run.verifierToken};
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'Credence',
    implementation: 'Credence (eddsa-rdfc-2022, BitstringStatusListEntry)',
    issuers: [{
      id: run.issuer.did,
      endpoint: `${run.base}/issuers/${run.issuer.id}/credentials/issue`,
      headers: {Authorization: 'Bearer ' + run.issuerToken},
      options: {credentialStatus: [
        {type: 'BitstringStatusListEntry', statusPurpose: 'revocation'},
        {type: 'BitstringStatusListEntry', statusPurpose: 'suspension'}
      ]},
      tags
    }],
    verifiers: [{id: run.issuer.did, endpoint: `${run.base}/credentials/verify`, headers: vheaders, tags}]
  }]
};

// Interop driver for TestInteropNPM (verifier/interop_npm_test.go): an
// independent implementation, @digitalbazaar/vc with the eddsa-rdfc-2022
// cryptosuite, verifies credentials that Credence issued.
//
//   node verify.mjs --context-url URL --context-file PATH --now DATE FILE
//
// FILE holds a JSON array of credentials (Data Integrity, did:key issuers);
// prints a JSON array of {"verified": bool, "error": "..."}, one per
// credential, in order.
import {readFileSync} from 'node:fs';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

import {documentLoader, options} from './loader.mjs';

const {values: args, positionals} = options({now: {type: 'string'}});
if(positionals.length !== 1) {
  throw new Error('usage: verify.mjs [options] FILE');
}
const loader = documentLoader({
  contextUrl: args['context-url'], contextFile: args['context-file']
});
const credentials = JSON.parse(readFileSync(positionals[0], 'utf8'));

const results = [];
for(const credential of credentials) {
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    documentLoader: loader,
    now: args.now
  });
  results.push({verified: result.verified, error: message(result)});
}
process.stdout.write(JSON.stringify(results) + '\n');

// message flattens the errors of a failed verification into one line.
function message(result) {
  if(result.verified) {
    return '';
  }
  const errors = [result.error, ...(result.results ?? []).map(r => r.error)];
  return errors.filter(Boolean)
    .flatMap(e => e.errors ?? [e])
    .map(e => String(e.message ?? e))
    .filter((m, i, all) => all.indexOf(m) === i).join("; ");
}

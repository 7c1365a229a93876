// Shared by issue.mjs and verify.mjs: command-line options, did:key keys
// and an offline JSON-LD document loader. Nothing is fetched: the W3C
// contexts come from their npm packages, the healthcare context from the
// Credence repository file named on the command line, and did:key documents
// are computed by @digitalbazaar/did-method-key.
import {readFileSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {parseArgs} from 'node:util';

import {contexts as credentialsContexts} from
  '@digitalbazaar/credentials-context';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import didContext from 'did-context';
import multikeyContext from '@digitalbazaar/multikey-context';

// options reads --context-url and --context-file (the healthcare context)
// and the script's own options.
export function options(own = {}) {
  const {values, positionals} = parseArgs({
    options: {
      'context-url': {type: 'string'},
      'context-file': {type: 'string'},
      ...own
    },
    allowPositionals: true
  });
  for(const name of ['context-url', 'context-file', ...Object.keys(own)]) {
    if(values[name] === undefined) {
      throw new Error(`--${name} is required`);
    }
  }
  return {values, positionals};
}

const didKeyDriver = didKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

// documentLoader serves the embedded contexts, the healthcare context read
// from contextFile, and did:key documents and verification methods.
export function documentLoader({contextUrl, contextFile}) {
  const contexts = new Map([
    ...credentialsContexts,
    ...didContext.contexts,
    ...multikeyContext.contexts,
    [contextUrl, JSON.parse(readFileSync(contextFile, 'utf8'))]
  ]);
  return async url => {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    if(url.startsWith('did:key:')) {
      const document = await didKeyDriver.get({url});
      return {contextUrl: null, documentUrl: url, document};
    }
    throw new Error(`offline document loader: refusing to fetch ${url}`);
  };
}

// keyFromLabel derives an Ed25519 did:key key pair from a fixed label
// (seed = SHA-256 of the label), so every run issues the same bytes. It
// returns the key pair (id: the did:key verification method), its DID and
// its seed.
export async function keyFromLabel(label) {
  const seed = createHash('sha256').update(label).digest();
  const {publicKeyMultibase} = await Ed25519Multikey.generate({seed});
  const did = `did:key:${publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.generate({
    id: `${did}#${publicKeyMultibase}`, controller: did, seed
  });
  return {keyPair, did, seed};
}

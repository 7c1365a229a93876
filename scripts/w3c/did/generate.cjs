// node generate.cjs PLAN.json OUT_DIR
//
// Writes Credence's implementation files for the W3C DID test suite (w3c/did-test-suite,
// packages/did-core-test-server/suites/implementations format) from real responses of a
// running Credence. Nothing in the output is written by hand: every document, representation
// and metadata structure is what GET /1.0/identifiers/{did} answered.
//
// PLAN.json (written by scripts/w3c-did-suite):
//   {"base": "http://127.0.0.1:PORT", "implementation": "...", "implementer": "...",
//    "methods": {"did:credence": ["did:credence:..."], "did:key": [...], ...},
//    "versioned": "did:credence:... (has versions 1 and 2)",
//    "deactivated": "did:credence:... (deactivated)",
//    "notFound": "did:credence:... (well-formed, never created)"}
//
// Outputs, in OUT_DIR:
//   did-<method>-credence.json   one per method: the DIDs, their data model (the didDocument of
//                                the application/did-resolution result, without @context),
//                                and per representation (application/did+json,
//                                application/did+ld+json) the exact bytes served, the
//                                Content-Type and the document metadata of the result.
//   resolver-credence.json       executions of resolve (Accept: application/did-resolution,
//                                the result's three members as served) and of
//                                resolveRepresentation (Accept: a DID document media type; the
//                                body is the didDocumentStream, the Content-Type header the
//                                contentType), successes and errors, with expectedOutcomes.
//   exchanges.json               every HTTP exchange behind the files (status, headers, body).
//
// How the HTTP binding maps onto DID Core §7.1's abstract functions (see scripts/w3c/README.md):
// a bare representation carries no metadata, so a resolveRepresentation execution takes its
// didDocumentMetadata from the application/did-resolution result of the same DID with the same
// options, fetched just before; on an error the body is a resolution result, not a DID
// document, so the didDocumentStream is empty and the metadata are the result's.
'use strict';
const fs = require('fs');
const path = require('path');

const [planFile, outDir] = process.argv.slice(2);
if(!planFile || !outDir) {
  console.error('usage: node generate.cjs PLAN.json OUT_DIR');
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
const RESULT = 'application/did-resolution';
const REPRESENTATIONS = ['application/did+json', 'application/did+ld+json'];
const exchanges = [];

// get resolves did over the HTTP binding with Accept and the query options; it fails when the
// status is not one of want.
async function get(did, accept, options = {}, want = [200]) {
  const q = new URLSearchParams(options).toString();
  const url = `${plan.base}/1.0/identifiers/${did}${q ? '?' + q : ''}`;
  const res = await fetch(url, {headers: {Accept: accept}});
  const body = await res.text();
  const headers = Object.fromEntries(res.headers);
  exchanges.push({url, accept, status: res.status, headers, body});
  if(!want.includes(res.status)) {
    throw new Error(`GET ${url} (Accept: ${accept}) answered ${res.status}, expected ${want.join(' or ')}: ${body.slice(0, 300)}`);
  }
  return {status: res.status, contentType: headers['content-type'], body};
}

async function result(did, options = {}, want = [200]) {
  const r = await get(did, RESULT, options, want);
  if(r.contentType !== RESULT) throw new Error(`${did}: resolution result served as ${r.contentType}`);
  return {...r, json: JSON.parse(r.body)};
}

const withoutContext = doc => {
  const {'@context': _, ...rest} = doc;
  return rest;
};

async function methodFile(method, dids) {
  const file = {
    didMethod: method,
    implementation: plan.implementation,
    implementer: plan.implementer,
    supportedContentTypes: REPRESENTATIONS,
    dids,
    didParameters: {},
  };
  for(const did of dids) {
    const res = (await result(did)).json;
    const doc = res.didDocument;
    const entry = {didDocumentDataModel: {properties: withoutContext(doc)}};
    for(const mt of REPRESENTATIONS) {
      const r = await get(did, mt);
      const rse = '@context' in doc ? {'@context': doc['@context']} : {};
      entry[mt] = {
        didDocumentDataModel: {representationSpecificEntries: rse},
        representation: r.body,
        didDocumentMetadata: res.didDocumentMetadata,
        didResolutionMetadata: {contentType: r.contentType},
      };
    }
    file[did] = entry;
  }
  if(method === 'did:credence' && plan.versioned && dids.includes(plan.versioned)) {
    // DID parameters did:credence supports (as resolution options of the HTTP binding):
    // versionId and versionTime, taken from what Credence reported for version 1.
    const v1 = (await result(plan.versioned, {versionId: '1'})).json.didDocumentMetadata;
    if(v1.versionId !== '1' || !v1.created) throw new Error('version 1 of ' + plan.versioned + ' has no versionId/created');
    await result(plan.versioned, {versionTime: v1.created});
    file.didParameters = {
      versionId: `${plan.versioned}?versionId=${v1.versionId}`,
      versionTime: `${plan.versioned}?versionTime=${v1.created}`,
    };
  }
  return file;
}

async function resolverFile() {
  const executions = [];
  const outcomes = {};
  const add = (outcome, execution) => {
    (outcomes[outcome] = outcomes[outcome] || []).push(executions.length);
    executions.push(execution);
  };
  const resolve = async (outcome, did, options = {}, want = [200]) => {
    const r = (await result(did, options, want)).json;
    add(outcome, {function: 'resolve', input: {did, resolutionOptions: options}, output: {
      didDocument: r.didDocument,
      didResolutionMetadata: r.didResolutionMetadata,
      didDocumentMetadata: r.didDocumentMetadata,
    }});
    return r;
  };
  const resolveRepresentation = async (outcome, did, accept, options = {}, want = [200]) => {
    const r = await get(did, accept, options, want);
    if(r.contentType === RESULT) { // an error: the body is a resolution result, not a document
      const err = JSON.parse(r.body);
      add(outcome, {function: 'resolveRepresentation', input: {did, resolutionOptions: {accept, ...options}}, output: {
        didDocumentStream: '',
        didResolutionMetadata: err.didResolutionMetadata,
        didDocumentMetadata: err.didDocumentMetadata,
      }});
      return;
    }
    const meta = (await result(did, options, want)).json.didDocumentMetadata;
    add(outcome, {function: 'resolveRepresentation', input: {did, resolutionOptions: {accept, ...options}}, output: {
      didDocumentStream: r.body,
      didResolutionMetadata: {contentType: r.contentType},
      didDocumentMetadata: meta,
    }});
  };

  for(const dids of Object.values(plan.methods)) {
    for(const did of dids) {
      await resolve('defaultOutcome', did);
      for(const mt of REPRESENTATIONS) await resolveRepresentation('defaultOutcome', did, mt);
    }
  }
  if(plan.versioned) {
    const v1 = await resolve('defaultOutcome', plan.versioned, {versionId: '1'});
    await resolve('defaultOutcome', plan.versioned, {versionTime: v1.didDocumentMetadata.created});
  }
  const key = (plan.methods['did:key'] || [])[0];
  if(key) {
    await resolve('defaultOutcome', key, {publicKeyFormat: 'JsonWebKey2020'});
    await resolveRepresentation('defaultOutcome', key, 'application/did+ld+json', {publicKeyFormat: 'Ed25519VerificationKey2020'});
  }
  if(plan.deactivated) {
    await resolve('deactivatedOutcome', plan.deactivated, {}, [410]);
    await resolveRepresentation('deactivatedOutcome', plan.deactivated, 'application/did+ld+json', {}, [410]);
  }
  await resolve('invalidDidErrorOutcome', 'not-a-did', {}, [400]);
  await resolve('invalidDidErrorOutcome', 'did:CREDENCE:abc', {}, [400]);
  await resolveRepresentation('invalidDidErrorOutcome', 'did:credence:abc:', 'application/did+ld+json', {}, [400]);
  if(plan.notFound) {
    await resolve('notFoundErrorOutcome', plan.notFound, {}, [404]);
    await resolveRepresentation('notFoundErrorOutcome', plan.notFound, 'application/did+json', {}, [404]);
  }
  const any = Object.values(plan.methods).flat()[0];
  await resolveRepresentation('representationNotSupportedErrorOutcome', any, 'application/did+cbor', {}, [406]);
  await resolve('methodNotSupportedErrorOutcome', 'did:example:123', {}, [501]);

  return {
    didMethod: Object.keys(plan.methods).join(', '),
    implementation: plan.implementation,
    implementer: plan.implementer,
    expectedOutcomes: outcomes,
    executions,
  };
}

(async () => {
  fs.mkdirSync(outDir, {recursive: true});
  const written = [];
  const write = (name, obj) => {
    fs.writeFileSync(path.join(outDir, name), JSON.stringify(obj, null, 2) + '\n');
    written.push(name);
  };
  for(const [method, dids] of Object.entries(plan.methods)) {
    write(`did-${method.slice(4)}-credence.json`, await methodFile(method, dids));
  }
  write('resolver-credence.json', await resolverFile());
  fs.writeFileSync(path.join(outDir, 'exchanges.json'), JSON.stringify(exchanges, null, 2) + '\n');
  console.log(written.join(' '));
})().catch(e => {
  console.error(e.stack || String(e));
  process.exit(1);
});

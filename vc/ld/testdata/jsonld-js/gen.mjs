// Writes the canonical N-Quads (RDFC-1.0) jsonld.js gives each JSON
// document named on the command line, as <name>.nq next to it. Contexts
// are served offline from vc/ld/contexts, the files vc/ld embeds.
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';

// jsonld is resolved from the working directory (see README.md).
const jsonld = createRequire(process.cwd() + '/')('jsonld');

const dir = fileURLToPath(new URL('../../contexts/', import.meta.url));
const files = {
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials-examples-v2.jsonld',
  'https://www.w3.org/ns/credentials/undefined-terms/v2': 'credentials-undefined-terms-v2.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};
const documentLoader = async url => {
  if(!(url in files)) {
    throw new Error(`offline document loader: refusing to fetch ${url}`);
  }
  const document = JSON.parse(readFileSync(dir + files[url], 'utf8'));
  return {contextUrl: null, documentUrl: url, document};
};

for(const file of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const nq = await jsonld.canonize(doc, {
    algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true, documentLoader
  });
  writeFileSync(file.replace(/\.json$/, '.nq'), nq);
}

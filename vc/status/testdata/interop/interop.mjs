// Interop driver for TestInteropDigitalBazaar (vc/status/interop_test.go):
// an independent implementation, @digitalbazaar/vc-bitstring-status-list,
// decodes what Credence encodes, encodes what Credence decodes, and checks
// Credence's entries against Credence's status list credentials.
//
// Reads one JSON request on stdin and writes one JSON response on stdout:
//
//   request:  {"decode": ["u..."],                         // encodedLists
//              "encode": [{"length": n, "set": [i, ...]}],  // lists to build
//              "credentials": [{"id", "statusPurpose", "length", "set"}],
//              "check": [{"credential": {...}, "statusListCredential": {...}}]}
//   response: {"decoded": [{"length": n, "set": [i, ...]}],
//              "encoded": ["u..."],
//              "credentials": [{...BitstringStatusListCredential...}],
//              "check": [{"verified": bool, "statuses": [bool], "error": "..."}]}
import {
  checkStatus, createCredential, createList, decodeList
} from '@digitalbazaar/vc-bitstring-status-list';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function setBits(list) {
  const set = [];
  for(let i = 0; i < list.length; i++) {
    if(list.getStatus(i)) {
      set.push(i);
    }
  }
  return set;
}

async function build({length, set}) {
  const list = await createList({length});
  for(const i of set) {
    list.setStatus(i, true);
  }
  return list;
}

const req = await readStdin();
const res = {decoded: [], encoded: [], credentials: [], check: []};

for(const encodedList of req.decode ?? []) {
  const list = await decodeList({encodedList});
  res.decoded.push({length: list.length, set: setBits(list)});
}

for(const spec of req.encode ?? []) {
  res.encoded.push(await (await build(spec)).encode());
}

for(const {id, statusPurpose, length, set} of req.credentials ?? []) {
  const list = await build({length, set});
  res.credentials.push(await createCredential({id, list, statusPurpose}));
}

for(const {credential, statusListCredential} of req.check ?? []) {
  const documentLoader = async url => {
    if(url !== statusListCredential.id) {
      throw new Error(`unexpected URL ${url}`);
    }
    return {contextUrl: null, documentUrl: url, document: statusListCredential};
  };
  // Proofs are not the subject here (the credentials are unsigned).
  const result = await checkStatus({
    credential, documentLoader,
    verifyBitstringStatusListCredential: false,
    verifyMatchingIssuers: true
  });
  res.check.push({
    verified: result.verified,
    statuses: (result.results ?? []).map(r => r.status),
    error: result.error ? String(result.error.message ?? result.error) : ''
  });
}

process.stdout.write(JSON.stringify(res) + '\n');

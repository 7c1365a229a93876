// Signs testdata/license.json as application/vc+jwt with the jose npm
// package (panva/jose), independently of Credence's Go code, once per key in
// keys.json (throwaway test keys), writing license-<alg>.jwt. The Go test
// TestInterop verifies the committed outputs; it never runs node.
//
//   cd vc/jose/testdata/interop && npm ci && node sign.mjs && rm -rf node_modules
import { readFileSync, writeFileSync } from 'node:fs'
import { CompactSign, importJWK } from 'jose'

const keys = JSON.parse(readFileSync('keys.json', 'utf8'))
// The payload is the credential's bytes exactly as the file has them.
const payload = readFileSync('../license.json')

for (const [alg, jwk] of Object.entries(keys)) {
  const key = await importJWK(jwk, alg)
  const token = await new CompactSign(payload)
    .setProtectedHeader({ alg, typ: 'vc+jwt', cty: 'vc', kid: jwk.kid })
    .sign(key)
  writeFileSync(`license-${alg.toLowerCase()}.jwt`, token + '\n')
  console.log(alg, token.length, 'bytes')
}

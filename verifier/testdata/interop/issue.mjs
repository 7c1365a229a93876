// Interop driver for TestInteropNPM (verifier/interop_npm_test.go): an
// independent implementation issues a MedicalLicenseCredential that Credence
// must verify, in four forms:
//
//   dataIntegrity  VC 2.0 with an eddsa-rdfc-2022 proof (@digitalbazaar/vc)
//   vcJwt          VC-JOSE application/vc+jwt, EdDSA (jose)
//   vc11Jwt        VC 1.1 JWT with a vc claim and iss/sub/nbf/exp/jti (jose)
//   presentation   a VP of dataIntegrity signed by the subject for
//                  authentication with --challenge and --domain
//
// The issuer (a state medical board) and the subject (the clinician) are
// Ed25519 did:keys derived from fixed labels and every date is fixed, so
// reruns print the same bytes.
//
//   node issue.mjs --context-url URL --context-file PATH \
//     --challenge C --domain D
//
// prints {"issuer", "issuerMethod", "subject", "subjectMethod",
// "dataIntegrity", "vcJwt", "vc11Jwt", "presentation"} as JSON.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {SignJWT, importJWK} from 'jose';

import {documentLoader, keyFromLabel, options} from './loader.mjs';

const ISSUED = '2026-01-05T00:00:00Z';
const VALID_UNTIL = '2028-01-31T23:59:59Z';

const {values: args} = options({
  challenge: {type: 'string'},
  domain: {type: 'string'}
});
const loader = documentLoader({
  contextUrl: args['context-url'], contextFile: args['context-file']
});
const issuer = await keyFromLabel('credence interop: Texas Medical Board');
const subject = await keyFromLabel('credence interop: clinician');

// The license of a Texas physician, shaped as vc/healthcare's examples.
const board = {
  id: issuer.did,
  name: 'Texas Medical Board (synthetic)',
  jurisdiction: 'TX'
};
const license = {
  '@context': ['https://www.w3.org/ns/credentials/v2', args['context-url']],
  id: 'urn:uuid:6f1d2c3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
  type: ['VerifiableCredential', 'MedicalLicenseCredential'],
  issuer: issuer.did,
  validFrom: ISSUED,
  validUntil: VALID_UNTIL,
  credentialSubject: {
    id: subject.did,
    name: {
      use: 'official', family: 'Okafor', given: ['Adaeze', 'N.'],
      prefix: ['Dr.'], suffix: ['MD']
    },
    npi: '1952183238',
    birthDate: '1981-04-12',
    license: {
      licenseNumber: 'Q4821',
      jurisdiction: 'TX',
      licenseType: {
        system: 'http://terminology.hl7.org/CodeSystem/v2-0360',
        code: 'MD',
        display: 'Doctor of Medicine'
      },
      profession: 'Physician',
      status: 'active',
      originalIssueDate: '2012-02-01',
      issueDate: '2026-01-05',
      expirationDate: '2028-01-31',
      issuingBoard: board
    },
    disciplinaryActions: []
  }
};

function suite(key) {
  return new DataIntegrityProof({
    signer: key.keyPair.signer(), date: ISSUED, cryptosuite: eddsaRdfc2022
  });
}

// 1. Data Integrity, eddsa-rdfc-2022.
const dataIntegrity = await vc.issue({
  credential: structuredClone(license), suite: suite(issuer),
  documentLoader: loader, now: ISSUED
});

// 2 and 3. JOSE, with the issuer's key as a JWK (d is the seed).
const privateKey = await importJWK({
  kty: 'OKP', crv: 'Ed25519',
  x: Buffer.from(issuer.keyPair.publicKey).toString('base64url'),
  d: issuer.seed.toString('base64url')
}, 'EdDSA');

const vcJwt = await new SignJWT(structuredClone(license))
  .setProtectedHeader({alg: 'EdDSA', kid: issuer.keyPair.id, typ: 'vc+jwt'})
  .sign(privateKey);

const seconds = iso => Math.floor(Date.parse(iso) / 1000);
const {id: _subjectId, ...claims11} = license.credentialSubject;
const vc11Jwt = await new SignJWT({
  vc: {
    '@context': ['https://www.w3.org/2018/credentials/v1', args['context-url']],
    type: license.type,
    credentialSubject: claims11
  }
})
  .setProtectedHeader({alg: 'EdDSA', kid: issuer.keyPair.id, typ: 'JWT'})
  .setIssuer(issuer.did)
  .setSubject(subject.did)
  .setJti('urn:uuid:0c9a7b6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d')
  .setNotBefore(seconds(ISSUED))
  .setIssuedAt(seconds(ISSUED))
  .setExpirationTime(seconds(VALID_UNTIL))
  .sign(privateKey);

// 4. The subject presents credential 1.
const unsigned = vc.createPresentation({
  verifiableCredential: [dataIntegrity], holder: subject.did,
  id: 'urn:uuid:3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d', now: ISSUED
});
const presentation = await vc.signPresentation({
  presentation: unsigned, suite: suite(subject),
  challenge: args.challenge, domain: args.domain, documentLoader: loader
});

process.stdout.write(JSON.stringify({
  issuer: issuer.did,
  issuerMethod: issuer.keyPair.id,
  subject: subject.did,
  subjectMethod: subject.keyPair.id,
  dataIntegrity, vcJwt, vc11Jwt, presentation
}) + '\n');

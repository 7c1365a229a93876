// credence-w3c (vc-jose-cose-test-suite): copied into the suite checkout's root by scripts/w3c-jose-suite
// (the suite's vc-test-suite-implementations package loads <root>/localConfig.cjs). Declares Credence
// with the suite's two JOSE features; the suite skips the tests of a feature set to false, which is
// how its README has an implementation declare one it does not support (COSE, and SD-JWT as
// VC-JOSE-COSE defines it). The suite runs each test through `docker compose run Credence ...`:
// scripts/w3c/jose/docker stands in for docker.
module.exports = {
  settings: {enableInteropTests: false, testAllImplementations: false},
  implementations: [{
    name: 'Credence',
    implementation: 'Credence',
    'jose-cose': {
      features: {
        credential_jose: true,
        presentation_jose: true,
        credential_sdjwt: false,
        presentation_sdjwt: false,
        credential_cose: false,
        presentation_cose: false
      }
    }
  }]
};

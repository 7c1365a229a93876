package ld

import (
	"embed"
	"maps"
	"slices"
)

// Context URLs of the embedded contexts.
const (
	CredentialsV1          = "https://www.w3.org/2018/credentials/v1"
	CredentialsV2          = "https://www.w3.org/ns/credentials/v2"
	CredentialsExamplesV2  = "https://www.w3.org/ns/credentials/examples/v2"
	UndefinedTermsV2       = "https://www.w3.org/ns/credentials/undefined-terms/v2"
	DataIntegrityV1        = "https://w3id.org/security/data-integrity/v1"
	DataIntegrityV2        = "https://w3id.org/security/data-integrity/v2"
	Ed25519Signature2020V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
	MultikeyV1             = "https://w3id.org/security/multikey/v1"
	StatusList2021V1       = "https://w3id.org/vc/status-list/2021/v1"
	DIDV1                  = "https://www.w3.org/ns/did/v1"
	JWS2020V1              = "https://w3id.org/security/suites/jws-2020/v1"
	SecurityV1             = "https://w3id.org/security/v1"
	SecurityV2             = "https://w3id.org/security/v2"
)

// Vocabularies of undefined terms. IssuerDependentVocab was the @vocab of
// the VC 2.0 context until July 2024 (drafts and early credentials use it);
// the final context has no @vocab and undefined terms are dropped unless a
// document adds UndefinedTermsV2, whose @vocab is UndefinedTermVocab.
const (
	IssuerDependentVocab = "https://www.w3.org/ns/credentials/issuer-dependent#"
	UndefinedTermVocab   = "https://www.w3.org/ns/credentials/undefined-term#"
)

//go:embed contexts/*.jsonld
var contextFS embed.FS

// contextFiles maps each context URL to its file under contexts/.
var contextFiles = map[string]string{
	CredentialsV1:          "credentials-v1.jsonld",
	CredentialsV2:          "credentials-v2.jsonld",
	CredentialsExamplesV2:  "credentials-examples-v2.jsonld",
	UndefinedTermsV2:       "credentials-undefined-terms-v2.jsonld",
	DataIntegrityV1:        "data-integrity-v1.jsonld",
	DataIntegrityV2:        "data-integrity-v2.jsonld",
	Ed25519Signature2020V1: "ed25519-2020-v1.jsonld",
	MultikeyV1:             "multikey-v1.jsonld",
	StatusList2021V1:       "status-list-2021-v1.jsonld",
	DIDV1:                  "did-v1.jsonld",
	JWS2020V1:              "jws-2020-v1.jsonld",
	SecurityV1:             "security-v1.jsonld",
	SecurityV2:             "security-v2.jsonld",
}

// embedded holds the bytes of every embedded context, read once.
var embedded = func() map[string][]byte {
	m := make(map[string][]byte, len(contextFiles))
	for url, name := range contextFiles {
		b, err := contextFS.ReadFile("contexts/" + name)
		if err != nil {
			panic("ld: missing embedded context " + name) // caught by every test
		}
		m[url] = b
	}
	return m
}()

// Contexts returns every embedded context, URL to the exact published bytes.
// The map and the slices are the caller's to keep.
func Contexts() map[string][]byte {
	m := make(map[string][]byte, len(embedded))
	for url, b := range embedded {
		m[url] = slices.Clone(b)
	}
	return m
}

// URLs lists the URLs of the embedded contexts, sorted.
func URLs() []string { return slices.Sorted(maps.Keys(embedded)) }

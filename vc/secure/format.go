package secure

import (
	"fmt"
	"strings"

	"github.com/credence/credence/vc"
)

// Format is a securing mechanism, named as the issue options name it.
type Format string

// Formats Credence issues.
const (
	// DataIntegrity is an eddsa-rdfc-2022 Data Integrity proof (the default).
	DataIntegrity Format = "di"
	// DataIntegrityJCS is an eddsa-jcs-2022 Data Integrity proof.
	DataIntegrityJCS Format = "di-jcs"
	// Ed25519Signature2020 is the VC 1.1-era Linked Data proof, for peers
	// that do not implement Data Integrity cryptosuites yet.
	Ed25519Signature2020 Format = "ed25519-2020"
	// JWT is VC-JOSE application/vc+jwt, returned enveloped.
	JWT Format = "jwt"
	// SDJWT is an IETF SD-JWT VC with selectively disclosable subject claims.
	SDJWT Format = "sd-jwt"
)

// Formats lists every format, default first.
func Formats() []Format {
	return []Format{DataIntegrity, DataIntegrityJCS, Ed25519Signature2020, JWT, SDJWT}
}

// ParseFormat reads a format name ("" is the default).
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return DataIntegrity, nil
	}
	for _, f := range Formats() {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, 0, 5)
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("%w: format %q (want one of %s)", vc.ErrUnsupported, s, strings.Join(names, ", "))
}

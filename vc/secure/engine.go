package secure

import (
	"context"
	"fmt"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/ld"
)

// Engine secures and verifies credentials. It is safe for concurrent use.
type Engine struct {
	ld *ld.Processor
	di *di.Engine
}

// New returns an engine over a JSON-LD processor (its contexts are the only
// ones credentials may use).
func New(p *ld.Processor) *Engine { return &Engine{ld: p, di: di.New(p)} }

// CheckTerms rejects a credential that uses a JSON-LD term its contexts do
// not define.
func (e *Engine) CheckTerms(cred map[string]any) error { return e.ld.CheckTerms(cred) }

// Issue secures cred. It returns the JSON value VC-API returns as
// verifiableCredential: the credential with its proof (Data Integrity
// formats) or an EnvelopedVerifiableCredential (JWT, SD-JWT).
func (e *Engine) Issue(ctx context.Context, cred map[string]any, s vc.Signer, o IssueOptions) (any, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now().UTC().Truncate(time.Second)
	}
	switch o.Format {
	case DataIntegrity, DataIntegrityJCS, Ed25519Signature2020:
		return e.di.Sign(ctx, cred, s, di.Options{Suite: suiteOf(o.Format), Purpose: vc.PurposeAssertion, Created: now})
	case JWT:
		token, err := jose.SignCredential(ctx, withIssuedAt(cred, now), s)
		if err != nil {
			return nil, err
		}
		return jose.Envelope(token, false), nil
	case SDJWT:
		return e.issueSDJWT(ctx, cred, s, o, now)
	}
	return nil, fmt.Errorf("%w: format %q", vc.ErrUnsupported, o.Format)
}

// withIssuedAt returns cred with the JWT claim iat, the issuance time
// (VC-JOSE-COSE lets a vc+jwt carry the registered claims): a verifier
// resolves the issuer's key as of it once the key is rotated, as it does
// with a Data Integrity proof's created. A credential that has an iat keeps
// it; cred itself is not modified.
func withIssuedAt(cred map[string]any, now time.Time) map[string]any {
	if _, ok := cred["iat"]; ok {
		return cred
	}
	out := make(map[string]any, len(cred)+1)
	for k, v := range cred {
		out[k] = v
	}
	out["iat"] = now.Unix()
	return out
}

func suiteOf(f Format) di.Suite {
	switch f {
	case DataIntegrityJCS:
		return di.EdDSAJCS2022
	case Ed25519Signature2020:
		return di.Ed25519Signature2020
	}
	return di.EdDSARDFC2022
}

package secure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// VerifyOptions are what the verifier expects.
type VerifyOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Skew is the clock skew tolerated on token times and proof creation.
	Skew time.Duration
	// Nonce and Audience bind an SD-JWT key binding JWT; KeyBinding requires one.
	Nonce, Audience string
	KeyBinding      bool
}

// Verified is a credential whose securing mechanism verified and which
// satisfies the data model.
type Verified struct {
	// Format names the mechanism: a Data Integrity cryptosuite
	// ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"),
	// "vc+jwt", "jwt-vc-1.1" or "dc+sd-jwt".
	Format string `json:"format"`
	// Credential is the verified credential (for SD-JWT, the disclosed
	// claims only).
	Credential vc.Credential `json:"credential"`
	// VerificationMethod is the key that verified (the first proof's).
	VerificationMethod string `json:"verificationMethod"`
	// Disclosed lists the disclosed claim paths of an SD-JWT.
	Disclosed []string `json:"disclosed,omitempty"`
}

// ParseInput reads what a file or request body may hold: a JSON credential
// object (with proofs, or enveloped), a JSON string holding a token, or a
// bare compact token (JWT or SD-JWT).
func ParseInput(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty input", vc.ErrMalformed)
	case b[0] == '{':
		return vc.DecodeObject(b)
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%w: %w", vc.ErrMalformed, err)
		}
		return s, nil
	}
	if len(b) > vc.MaxDocumentBytes {
		return nil, fmt.Errorf("%w: token is larger than %d bytes", vc.ErrMalformed, vc.MaxDocumentBytes)
	}
	return string(b), nil
}

// VerifyCredential verifies a credential in any supported format: input is
// a map (a credential with embedded proofs, or an enveloped credential) or a
// string (a compact JWT or SD-JWT). Keys are resolved for assertionMethod.
// It checks the securing mechanism and the data model; validity periods and
// status are the verifier's policy.
func (e *Engine) VerifyCredential(ctx context.Context, input any, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	switch in := input.(type) {
	case map[string]any:
		if vc.Credential(in).HasType(vc.TypeEnvelopedCredential) {
			return e.verifyEnveloped(ctx, in, keys, o)
		}
		return e.verifyDI(ctx, in, keys, o)
	case string:
		if strings.Contains(in, "~") {
			return e.verifySDJWT(ctx, in, keys, o)
		}
		return e.verifyJWT(ctx, in, keys, o)
	}
	return nil, fmt.Errorf("%w: a credential is a JSON object or a compact token, not %T", vc.ErrMalformed, input)
}

func (e *Engine) verifyEnveloped(ctx context.Context, env map[string]any, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	if err := vc.ValidateEnveloped(env, vc.TypeEnvelopedCredential); err != nil {
		return nil, err
	}
	id, _ := env["id"].(string)
	if media, token, ok := strings.Cut(strings.TrimPrefix(id, "data:"), ","); ok && isSDJWTMedia(media) {
		return e.verifySDJWT(ctx, token, keys, o)
	}
	token, presentation, err := jose.Unenvelope(env)
	if err != nil {
		return nil, err
	}
	if presentation {
		return nil, fmt.Errorf("%w: an enveloped presentation where a credential was expected", vc.ErrMalformed)
	}
	return e.verifyJWT(ctx, token, keys, o)
}

func (e *Engine) verifyJWT(ctx context.Context, token string, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	v, err := jose.Verify(ctx, token, keys, jose.VerifyOptions{Now: o.Now, Skew: o.Skew})
	if err != nil {
		return nil, err
	}
	if v.Presentation() {
		return nil, fmt.Errorf("%w: a presentation where a credential was expected", vc.ErrMalformed)
	}
	return checked(&Verified{Format: v.Format, Credential: vc.Credential(v.Document), VerificationMethod: v.VerificationMethod})
}

// checked applies the data model rules to a credential whose mechanism
// verified.
func checked(v *Verified) (*Verified, error) {
	if err := v.Credential.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

package secure

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/sdjwt"
)

// A presentation (VC 2.0 §4.13) is the holder's proof that it holds the
// credentials it carries: the holder signs it with proofPurpose
// authentication, bound to the verifier's challenge and domain (VC Data
// Integrity §2.1, "challenge" and "domain"; for JWTs the nonce and aud
// claims). VerifyPresentation checks that proof only: each credential is
// then verified on its own with VerifyCredential, and whether its subject is
// the holder is the verifier's policy.

// MaxCredentials bounds the credentials of one presentation: each costs a
// key resolution and a signature check (and a canonicalization) to verify.
const MaxCredentials = 32

// ErrChallenge: the presentation is not bound to the challenge (nonce) or
// domain (audience) the verifier asked for, or carries none. It wraps
// vc.ErrProofOptions, so errors.Is holds for both.
var ErrChallenge = fmt.Errorf("%w: not bound to the verifier's challenge or domain", vc.ErrProofOptions)

// PresentOptions select how a presentation is secured.
type PresentOptions struct {
	// Format is DataIntegrity (the default, also for ""),
	// DataIntegrityJCS, Ed25519Signature2020 or JWT (vp+jwt, returned as an
	// EnvelopedVerifiablePresentation). SDJWT presents one SD-JWT VC as an
	// SD-JWT+KB string (RFC 9901 §4.3), which is not a VP.
	Format Format
	// Challenge is the DI proof challenge, the JWT or KB-JWT nonce.
	Challenge string
	// Domain is the DI proof domain, the JWT or KB-JWT aud.
	Domain string
	// Now is the proof's created, the JWT's iat; zero means time.Now.
	Now time.Time
	// Disclose (SDJWT only) lists the claims to disclose, as
	// VerifyCredential reports them ("/credentialSubject/name"); the other
	// selectively disclosable claims stay hidden.
	Disclose []string
}

// PresentationOptions are what the verifier expects of a presentation.
type PresentationOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Skew is the clock skew tolerated on token times.
	Skew time.Duration
	// Challenge, when set, must be the DI proof's challenge, the JWT's
	// nonce or the KB-JWT's nonce (ErrChallenge otherwise).
	Challenge string
	// Domain, when set, must be the DI proof's domain, among the JWT's aud
	// or the KB-JWT's aud (ErrChallenge otherwise).
	Domain string
}

// VerifiedPresentation is a presentation whose holder proof verified.
type VerifiedPresentation struct {
	// Format is the mechanism: a Data Integrity cryptosuite
	// ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"),
	// "vp+jwt", "jwt-vp-1.1" or "dc+sd-jwt" (an SD-JWT+KB).
	Format string `json:"format"`
	// Holder is the DID whose key signed (the holder member, or the
	// signer's DID when there is none); for an SD-JWT+KB, the credential's
	// subject id (the cnf key signed the KB-JWT).
	Holder string `json:"holder"`
	// HolderProof reports that the holder signed the presentation, with
	// the challenge and domain the options asked for.
	HolderProof bool `json:"holderProof"`
	// VerificationMethod is the key that signed (the first proof's); for
	// an SD-JWT+KB the RFC 9278 thumbprint URI of the cnf key.
	VerificationMethod string `json:"verificationMethod"`
	// Presentation is the verified presentation; nil for an SD-JWT+KB.
	Presentation vc.Presentation `json:"presentation,omitempty"`
	// Credentials are the presented credentials, in order, as inputs for
	// VerifyCredential: objects (embedded or enveloped) and, in VC 1.1
	// presentations, JWT strings; for an SD-JWT+KB the one SD-JWT+KB.
	Credentials []any `json:"credentials"`
}

// Present builds a VerifiablePresentation (VC 2.0 context) whose holder is
// holderDID ("" means the DID of holder's key) carrying credentials (each a
// JSON object as Issue returns it: a credential with its proof or an
// enveloped credential), and secures it with holder's key for
// authentication, which must be a key of holderDID (vc.ErrKey otherwise).
// With Format SDJWT it returns the SD-JWT+KB string of the one SD-JWT VC
// in credentials, key bound to Domain and Challenge (both required) by
// holder's key, which must be the credential's cnf key; holderDID is not
// used.
func (e *Engine) Present(ctx context.Context, holderDID string, credentials []any, holder vc.Signer, o PresentOptions) (any, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now().UTC().Truncate(time.Second)
	}
	if o.Format == SDJWT {
		return presentSDJWT(ctx, credentials, holder, o, now)
	}
	if holderDID == "" {
		holderDID = controller(holder.VerificationMethod)
	}
	if controller(holder.VerificationMethod) != holderDID {
		return nil, fmt.Errorf("%w: the key %s does not belong to the holder %s", vc.ErrKey, holder.VerificationMethod, holderDID)
	}
	vp, err := newPresentation(holderDID, credentials)
	if err != nil {
		return nil, err
	}
	switch o.Format {
	case "", DataIntegrity, DataIntegrityJCS, Ed25519Signature2020:
		return e.di.Sign(ctx, vp, holder, di.Options{Suite: suiteOf(o.Format), Purpose: vc.PurposeAuthentication,
			Created: now, Challenge: o.Challenge, Domain: o.Domain})
	case JWT:
		token, err := signVP(ctx, vp, holder, o, now)
		if err != nil {
			return nil, err
		}
		return jose.Envelope(token, true), nil
	}
	return nil, fmt.Errorf("%w: presentation format %q", vc.ErrUnsupported, o.Format)
}

// newPresentation builds and validates the unsecured presentation.
func newPresentation(holder string, credentials []any) (map[string]any, error) {
	if len(credentials) > MaxCredentials {
		return nil, fmt.Errorf("%w: %d credentials, at most %d per presentation", vc.ErrMalformed, len(credentials), MaxCredentials)
	}
	vp := map[string]any{"@context": []any{vc.ContextV2}, "type": []any{vc.TypePresentation}, "holder": holder}
	if len(credentials) > 0 {
		vcs := make([]any, len(credentials))
		for i, c := range credentials {
			m, ok := c.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: credential %d is %T, not a JSON object", vc.ErrMalformed, i, c)
			}
			vcs[i] = m
		}
		vp["verifiableCredential"] = vcs
	}
	if err := vc.Presentation(vp).Validate(); err != nil {
		return nil, err
	}
	return vp, nil
}

// signVP secures vp as application/vp+jwt (VC-JOSE-COSE §3.1.2): the
// payload is the presentation with iat, and aud and nonce binding it to the
// verifier (RFC 7519 §4.1.3; OpenID4VP). jose.SignPresentation does the
// same but takes iat from the wall clock, not from o.Now.
func signVP(ctx context.Context, vp map[string]any, s vc.Signer, o PresentOptions, now time.Time) (string, error) {
	vp["iat"] = now.Unix()
	if o.Domain != "" {
		vp["aud"] = o.Domain
	}
	if o.Challenge != "" {
		vp["nonce"] = o.Challenge
	}
	payload, err := vc.Marshal(vp)
	if err != nil {
		return "", fmt.Errorf("%w: failed to encode the presentation: %w", vc.ErrMalformed, err)
	}
	return jose.Sign(ctx, jose.Header{Typ: jose.FormatVP, Cty: "vp", Kid: s.VerificationMethod}, payload, s)
}

// presentSDJWT discloses the chosen claims of one SD-JWT VC and adds the
// Key Binding JWT (RFC 9901 §4.3).
func presentSDJWT(ctx context.Context, credentials []any, holder vc.Signer, o PresentOptions, now time.Time) (string, error) {
	if len(credentials) != 1 {
		return "", fmt.Errorf("%w: an SD-JWT presentation carries one credential, not %d", vc.ErrUnsupported, len(credentials))
	}
	token, err := sdjwtToken(credentials[0])
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(o.Disclose))
	for _, p := range o.Disclose {
		claim, ok := strings.CutPrefix(p, "/credentialSubject")
		switch {
		case !ok || !strings.HasPrefix(claim, "/"):
			return "", fmt.Errorf("%w: %q is not a claim of the credential subject", vc.ErrMalformed, p)
		case claim != "/id": // sub, always disclosed
			paths = append(paths, claim)
		}
	}
	return sdjwt.Present(ctx, token, paths, holder, o.Domain, o.Challenge, sdjwt.WithClock(func() time.Time { return now }))
}

// sdjwtToken reads an SD-JWT VC: a compact token or enveloped.
func sdjwtToken(c any) (string, error) {
	switch t := c.(type) {
	case string:
		return t, nil
	case map[string]any:
		if vc.ValidateEnveloped(t, vc.TypeEnvelopedCredential) == nil {
			id, _ := t["id"].(string)
			if media, token, ok := strings.Cut(strings.TrimPrefix(id, "data:"), ","); ok && isSDJWTMedia(media) {
				return token, nil
			}
		}
	}
	return "", fmt.Errorf("%w: an SD-JWT presentation needs an SD-JWT VC", vc.ErrUnsupported)
}

// VerifyPresentation verifies a presentation's own proof, not those of the
// credentials it carries (verify each of Credentials with VerifyCredential).
// input is what ParseInput returns: a map (a presentation with Data
// Integrity proofs, or an EnvelopedVerifiablePresentation of a vp+jwt) or a
// string (a compact vp+jwt or VC 1.1 JWT VP, or an SD-JWT+KB). Keys are
// resolved for authentication, and a proof's key must be the holder's.
//
// Errors wrap the vc sentinels: vc.ErrMalformed for a presentation without
// a proof, more than MaxCredentials credentials or one larger than
// vc.MaxDocumentBytes; vc.ErrKey for a key that is not the holder's;
// ErrChallenge (a vc.ErrProofOptions) for a challenge or domain mismatch;
// vc.ErrProofOptions for another purpose than authentication or an SD-JWT
// without key binding.
func (e *Engine) VerifyPresentation(ctx context.Context, input any, keys vc.KeyResolver, o PresentationOptions) (*VerifiedPresentation, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: no key resolver", vc.ErrKey)
	}
	switch in := input.(type) {
	case map[string]any:
		if b, err := vc.Marshal(in); err != nil || len(b) > vc.MaxDocumentBytes {
			return nil, fmt.Errorf("%w: a presentation is a JSON object of at most %d bytes", vc.ErrMalformed, vc.MaxDocumentBytes)
		}
		if vc.Credential(in).HasType(vc.TypeEnvelopedPresentation) {
			token, _, err := jose.Unenvelope(in) // of this one type: a presentation
			if err != nil {
				return nil, err
			}
			return verifyJWTPresentation(ctx, token, true, keys, o)
		}
		return e.verifyDIPresentation(ctx, in, keys, o)
	case string: // jose and sdjwt refuse tokens over vc.MaxDocumentBytes
		if strings.Contains(in, "~") {
			return verifySDJWTPresentation(ctx, in, keys, o)
		}
		return verifyJWTPresentation(ctx, in, false, keys, o)
	}
	return nil, fmt.Errorf("%w: a presentation is a JSON object or a compact token, not %T", vc.ErrMalformed, input)
}

// checkPresentation applies the data model (VC 2.0 §4.13) and the bound on
// the credentials.
func checkPresentation(vp vc.Presentation) error {
	if n := len(vp.Credentials()); n > MaxCredentials {
		return fmt.Errorf("%w: %d credentials, at most %d per presentation", vc.ErrMalformed, n, MaxCredentials)
	}
	return vp.Validate()
}

func (e *Engine) verifyDIPresentation(ctx context.Context, doc map[string]any, keys vc.KeyResolver, o PresentationOptions) (*VerifiedPresentation, error) {
	vp := vc.Presentation(doc)
	if err := checkPresentation(vp); err != nil {
		return nil, err
	}
	// Checked before the signatures, which cost a canonicalization each; a
	// presentation without a proof fails in di.Verify (vc.ErrMalformed).
	holder := vp.Holder()
	for _, p := range vp.Proofs() {
		// VC 2.0 §4.13 (holder) and DID Core §5.3.1: the holder proves
		// control of its DID with a key its document lists for authentication.
		if vm, _ := p["verificationMethod"].(string); holder != "" && vm != "" && controller(vm) != holder {
			return nil, fmt.Errorf("%w: the proof's key %s does not belong to the holder %s", vc.ErrKey, vm, holder)
		}
		if err := boundDI(p, o); err != nil {
			return nil, err
		}
	}
	res, err := e.di.Verify(ctx, doc, keys, di.VerifyOptions{Purpose: vc.PurposeAuthentication, Challenge: o.Challenge, Domain: o.Domain, Now: o.Now})
	if err != nil {
		return nil, err
	}
	first := res.Proofs[0]
	if holder == "" {
		holder = controller(first.VerificationMethod)
	}
	return &VerifiedPresentation{Format: string(first.Suite), Holder: holder, HolderProof: true,
		VerificationMethod: first.VerificationMethod, Presentation: vp, Credentials: vp.Credentials()}, nil
}

// boundDI checks a proof's challenge and domain as the Verify Proof
// algorithm of VC Data Integrity (§4) asks: equal to the verifier's when it
// expects one. As in package di, a domain list must be exactly the expected
// domain.
func boundDI(proof map[string]any, o PresentationOptions) error {
	if o.Challenge != "" && proof["challenge"] != o.Challenge {
		return fmt.Errorf("%w: the proof's challenge is not the verifier's", ErrChallenge)
	}
	if o.Domain != "" && !slices.Equal(vc.Strings(proof["domain"]), []string{o.Domain}) {
		return fmt.Errorf("%w: the proof's domain is not %q", ErrChallenge, o.Domain)
	}
	return nil
}

// boundJWT checks a JWT's nonce and aud claims: aud names the verifier
// (RFC 7519 §4.1.3, VC 1.1 §6.3.1), nonce carries its challenge (OpenID
// Connect Core §2, OpenID4VP, RFC 9901 §4.3 for the KB-JWT).
func boundJWT(claims map[string]any, o PresentationOptions) error {
	if o.Challenge != "" && claims["nonce"] != o.Challenge {
		return fmt.Errorf("%w: nonce is not the verifier's challenge", ErrChallenge)
	}
	if o.Domain != "" && !slices.Contains(vc.Strings(claims["aud"]), o.Domain) {
		return fmt.Errorf("%w: aud does not include %q", ErrChallenge, o.Domain)
	}
	return nil
}

// verifyJWTPresentation verifies a vp+jwt or (not enveloped) a VC 1.1 JWT
// VP. jose.Verify resolves the kid for authentication and checks that it
// is a key of the holder.
func verifyJWTPresentation(ctx context.Context, token string, enveloped bool, keys vc.KeyResolver, o PresentationOptions) (*VerifiedPresentation, error) {
	v, err := jose.Verify(ctx, token, keys, jose.VerifyOptions{Now: o.Now, Skew: o.Skew})
	if err != nil {
		return nil, err
	}
	if !v.Presentation() || (enveloped && v.Format != jose.FormatVP) {
		return nil, fmt.Errorf("%w: a %s where a presentation was expected", vc.ErrMalformed, v.Format)
	}
	if err := boundJWT(v.Claims, o); err != nil {
		return nil, err
	}
	vp := vc.Presentation(v.Document)
	if err := checkPresentation(vp); err != nil {
		return nil, err
	}
	holder := vp.Holder()
	if holder == "" {
		holder = controller(v.VerificationMethod)
	}
	return &VerifiedPresentation{Format: v.Format, Holder: holder, HolderProof: true,
		VerificationMethod: v.VerificationMethod, Presentation: vp, Credentials: vp.Credentials()}, nil
}

// verifySDJWTPresentation verifies an SD-JWT+KB (RFC 9901 §7.3): the
// issuer's JWT and disclosures, then the KB-JWT signed by the cnf key with
// the verifier's nonce and aud. An SD-JWT without a KB-JWT proves nothing
// about who presents it and is refused.
func verifySDJWTPresentation(ctx context.Context, s string, keys vc.KeyResolver, o PresentationOptions) (*VerifiedPresentation, error) {
	kb := s[strings.LastIndexByte(s, '~')+1:]
	if kb == "" {
		return nil, fmt.Errorf("%w: an SD-JWT without a Key Binding JWT is not a presentation", vc.ErrProofOptions)
	}
	if o.Challenge != "" || o.Domain != "" {
		j, err := jose.Parse(kb, 0)
		if err != nil {
			return nil, fmt.Errorf("KB-JWT: %w", err)
		}
		claims, err := vc.DecodeObject(j.Payload)
		if err != nil {
			return nil, fmt.Errorf("KB-JWT payload: %w", err)
		}
		if err := boundJWT(claims, o); err != nil { // checked again, signed, by sdjwt.Verify
			return nil, err
		}
	}
	// With a KB-JWT present, sdjwt.Verify verifies it or fails.
	v, err := sdjwt.Verify(ctx, s, keys, sdjwt.VerifyOptions{Now: o.Now, Skew: o.Skew,
		KeyBinding: o.Challenge != "" && o.Domain != "", Audience: o.Domain, Nonce: o.Challenge})
	if err != nil {
		return nil, err
	}
	thumb, err := thumbprintURI(v.Claims["cnf"])
	if err != nil {
		return nil, err
	}
	sub, _ := v.Claims["sub"].(string)
	return &VerifiedPresentation{Format: sdjwt.TypeSDJWTVC, Holder: sub, HolderProof: true,
		VerificationMethod: thumb, Credentials: []any{s}}, nil
}

// thumbprintURI names a cnf.jwk (RFC 7800) by its RFC 7638 SHA-256
// thumbprint as an RFC 9278 URI.
func thumbprintURI(cnf any) (string, error) {
	m, _ := cnf.(map[string]any)
	b, err := vc.Marshal(m["jwk"])
	if err != nil {
		return "", fmt.Errorf("%w: cnf.jwk: %w", vc.ErrKey, err)
	}
	k, _, err := did.ParseJWK(b)
	if err != nil {
		return "", fmt.Errorf("%w: cnf.jwk: %w", vc.ErrKey, err)
	}
	// RFC 7638 §3.2: the required members only, sorted, no whitespace.
	members := map[string]string{"crv": k.Crv, "kty": k.Kty, "x": k.X}
	if k.Kty == "EC" {
		members["y"] = k.Y
	}
	canonical, err := json.Marshal(members) // encoding/json sorts map keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

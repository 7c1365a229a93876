package issuer

import (
	"context"
	"crypto"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// proofAlgs are the key proof algorithms accepted.
var proofAlgs = []string{"EdDSA", "ES256"}

// proofJWT is the one jwt proof of a proofs object.
func proofJWT(proofs map[string]any) (string, error) {
	if proofs == nil {
		return "", refuse(CodeInvalidProof, "proofs is required: one jwt key proof")
	}
	if len(proofs) != 1 {
		return "", refuse(CodeInvalidCredentialRequest, "proofs has exactly one proof type")
	}
	list, ok := proofs["jwt"].([]any)
	switch {
	case !ok && proofs["jwt"] == nil:
		return "", refuse(CodeInvalidProof, "the proof type is not supported: use jwt")
	case !ok || len(list) == 0:
		return "", refuse(CodeInvalidProof, "proofs.jwt is a non-empty array of JWTs")
	case len(list) > 1:
		return "", refuse(CodeInvalidCredentialRequest, "batch issuance is not supported: send one proof")
	}
	s, ok := list[0].(string)
	if !ok || s == "" {
		return "", refuse(CodeInvalidProof, "proofs.jwt holds JWTs (strings)")
	}
	return s, nil
}

// verifyProof checks a jwt key proof (OpenID4VCI §F.1, §F.4): typ
// openid4vci-proof+jwt; alg EdDSA or ES256, pinned to the key; kid a DID
// URL (did:key, did:jwk, did:web, did:credence) whose DID document
// authorizes the key for authentication or assertionMethod — a jwk or x5c
// header is refused, since the credential is bound to a DID; aud the
// tenant's credential issuer identifier; iat at most ProofMaxAge old and
// ProofSkew ahead; nonce an unexpired c_nonce of this tenant (not yet
// marked used). It returns the DID, the key and the nonce.
func (o *Offers) verifyProof(ctx context.Context, tenantID, token string, now time.Time) (string, crypto.PublicKey, string, error) {
	j, err := jose.Parse(token, MaxProofBytes)
	if err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof is not a compact JWS: %v", err)
	}
	if err := checkProofHeader(token, j.Header); err != nil {
		return "", nil, "", err
	}
	claims, err := vc.DecodeObject(j.Payload)
	if err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof's payload is not a JSON object")
	}
	nonce, err := checkProofClaims(claims, o.IssuerURL(tenantID), now)
	if err != nil {
		return "", nil, "", err
	}
	if err := o.checkNonce(ctx, tenantID, nonce, now); err != nil {
		return "", nil, "", err
	}
	u, err := did.ParseURL(j.Header.Kid)
	if err != nil || u.Fragment == "" || u.Path != "" || u.HasQuery {
		return "", nil, "", refuse(CodeInvalidProof, "kid must be a DID URL naming a key of the holder's DID (did:...#fragment)")
	}
	pub, err := o.keys.PublicKey(ctx, j.Header.Kid, vc.PurposeAuthentication)
	if err != nil {
		var aerr error
		if pub, aerr = o.keys.PublicKey(ctx, j.Header.Kid, vc.PurposeAssertion); aerr != nil {
			return "", nil, "", refuse(CodeInvalidProof, "the kid's key cannot be used: %v", err)
		}
	}
	if err := j.Verify(pub); err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof's signature does not verify with the key of %s", j.Header.Kid)
	}
	return u.DID.String(), pub, nonce, nil
}

func checkProofHeader(token string, h jose.Header) error {
	raw, err := b64.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return refuse(CodeInvalidProof, "the proof's header is not base64url")
	}
	m, err := vc.DecodeObject(raw)
	if err != nil {
		return refuse(CodeInvalidProof, "the proof's header is not a JSON object")
	}
	switch {
	case !strings.EqualFold(h.Typ, ProofTyp):
		return refuse(CodeInvalidProof, "the proof's typ must be %s", ProofTyp)
	case !slices.Contains(proofAlgs, h.Alg):
		return refuse(CodeInvalidProof, "the proof's alg must be EdDSA or ES256")
	case m["jwk"] != nil || m["x5c"] != nil:
		return refuse(CodeInvalidProof, "credentials are bound to a DID: send kid, a DID URL, not jwk or x5c")
	case h.Kid == "":
		return refuse(CodeInvalidProof, "the proof needs a kid: a DID URL of the holder's key")
	}
	return nil
}

// checkProofClaims checks aud and iat and returns the nonce.
func checkProofClaims(claims map[string]any, aud string, now time.Time) (string, error) {
	if got, _ := claims["aud"].(string); got != aud {
		return "", refuse(CodeInvalidProof, "the proof's aud must be the credential issuer identifier %s", aud)
	}
	n, ok := claims["iat"].(json.Number)
	if !ok {
		return "", refuse(CodeInvalidProof, "the proof needs iat, a number")
	}
	f, err := n.Float64()
	if err != nil {
		return "", refuse(CodeInvalidProof, "the proof's iat is not a number")
	}
	iat := time.Unix(int64(f), 0)
	switch {
	case iat.Before(now.Add(-ProofMaxAge)):
		return "", refuse(CodeInvalidProof, "the proof's iat is more than %s old", ProofMaxAge)
	case iat.After(now.Add(ProofSkew)):
		return "", refuse(CodeInvalidProof, "the proof's iat is in the future")
	}
	nonce, _ := claims["nonce"].(string)
	if nonce == "" {
		return "", refuse(CodeInvalidProof, "the proof needs nonce, a c_nonce from the nonce endpoint")
	}
	return nonce, nil
}

// checkBinding: an SD-JWT VC binds its holder key (cnf) as Issue finds it,
// the DID's first authentication key; the proof must be made with it.
func (o *Offers) checkBinding(ctx context.Context, holder string, pub crypto.PublicKey) error {
	if o.svc.holders == nil {
		return refuse(CodeDenied, "this issuer cannot bind SD-JWT VCs to holders")
	}
	k, err := o.svc.holders.HolderKey(ctx, holder)
	if err != nil {
		return refuse(CodeInvalidProof, "cannot find the holder key of %s: %v", holder, err)
	}
	if eq, ok := k.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
		return refuse(CodeInvalidProof, "a dc+sd-jwt credential binds the first authentication key of %s: sign the proof with it", holder)
	}
	return nil
}

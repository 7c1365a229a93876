package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// SignFunc signs msg, the JWS signing input (ASCII "header.payload" in base64url).
// For an Ed25519 key it returns the 64-byte Ed25519 signature of msg; for a P-256
// key it returns an ECDSA signature of SHA-256(msg), either raw r||s (64 bytes) or
// ASN.1 DER as crypto.Signer produces (AddProof converts it).
type SignFunc func(msg []byte) ([]byte, error)

// SignerFunc adapts an Ed25519 or P-256 crypto.Signer (ed25519.PrivateKey,
// *ecdsa.PrivateKey, an HSM handle) to a SignFunc.
func SignerFunc(s crypto.Signer) SignFunc {
	return func(msg []byte) ([]byte, error) {
		switch s.Public().(type) {
		case ed25519.PublicKey:
			return s.Sign(rand.Reader, msg, crypto.Hash(0))
		case *ecdsa.PublicKey:
			digest := sha256.Sum256(msg)
			return s.Sign(rand.Reader, digest[:], crypto.SHA256)
		}
		return nil, fmt.Errorf("unsupported signer key %T", s.Public())
	}
}

// algFor returns the only JWS algorithm a key may sign with.
func algFor(pub crypto.PublicKey) (jwa.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return jwa.EdDSA(), nil
		}
	case *ecdsa.PublicKey:
		if k != nil && k.Curve == elliptic.P256() {
			return jwa.ES256(), nil
		}
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("unsupported key type %T (want Ed25519 or P-256)", pub)
}

// protectedHeader is the whole protected header of a proof, in this member order.
type protectedHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

var b64 = base64.RawURLEncoding.Strict()

// AddProof signs op's SigningInput as a compact JWS with a detached payload
// ("header..signature", protected header exactly {"alg","kid"}: EdDSA for an
// Ed25519 key, ES256 for a P-256 key), verifies the result with VerifyProof and
// appends it to op.Proofs. ES256 signatures are normalized to low S.
func AddProof(op *Op, kid string, pub crypto.PublicKey, sign SignFunc) error {
	alg, err := algFor(pub)
	if err != nil {
		return fmt.Errorf("AddProof: %w", err)
	}
	if kid == "" {
		return fmt.Errorf("AddProof: empty kid")
	}
	payload, err := SigningInput(op)
	if err != nil {
		return fmt.Errorf("AddProof: %w", err)
	}
	hdr, err := json.Marshal(protectedHeader{Alg: alg.String(), Kid: kid})
	if err != nil {
		return fmt.Errorf("AddProof: %w", err)
	}
	encHdr := b64.EncodeToString(hdr)
	sig, err := sign([]byte(encHdr + "." + b64.EncodeToString(payload)))
	if err != nil {
		return fmt.Errorf("AddProof: sign: %w", err)
	}
	if alg == jwa.ES256() {
		if sig, err = rawLowS(sig); err != nil {
			return fmt.Errorf("AddProof: %w", err)
		}
	}
	p := Proof{KID: kid, JWS: encHdr + ".." + b64.EncodeToString(sig)}
	if err := verifyProof(payload, p, pub); err != nil {
		return fmt.Errorf("AddProof: the new proof does not verify: %w", err)
	}
	op.Proofs = append(op.Proofs, p)
	return nil
}

// p256Order and p256HalfOrder bound ECDSA s values.
var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// rawLowS converts an ES256 signature (raw r||s or ASN.1 DER) to raw r||s with
// s <= n/2.
func rawLowS(sig []byte) ([]byte, error) {
	var r, s *big.Int
	var der struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &der); err == nil && len(rest) == 0 && der.R != nil && der.S != nil {
		r, s = der.R, der.S
	} else if len(sig) == 64 {
		r, s = new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	} else {
		return nil, fmt.Errorf("ES256 signature is neither ASN.1 DER nor raw r||s")
	}
	if r.Sign() <= 0 || s.Sign() <= 0 {
		return nil, fmt.Errorf("ES256 signature out of range")
	}
	if r.Cmp(p256Order) >= 0 || s.Cmp(p256Order) >= 0 {
		return nil, fmt.Errorf("ES256 signature out of range")
	}
	if s.Cmp(p256HalfOrder) > 0 {
		s = new(big.Int).Sub(p256Order, s)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// VerifyProof checks that p is a valid proof of op by pub: a compact JWS with a
// detached payload equal to SigningInput(op), whose protected header is exactly
// {"alg","kid"}, alg the one algorithm of pub's key type (EdDSA for Ed25519, ES256
// for P-256: no "none", no algorithm confusion), kid equal to p.KID; no b64, crit,
// jwk, jku, x5u or any other header. ES256 signatures must be low-S (s <= n/2), so
// a third party cannot re-encode a valid proof into a second valid one; the
// base64url parts must be canonical for the same reason. The signature itself is
// verified by jwx. Failures are *RuleError wrapping ErrBadSignature.
func VerifyProof(op *Op, p Proof, pub crypto.PublicKey) error {
	payload, err := SigningInput(op)
	if err != nil {
		return reject(ErrBadSignature, "proof %q: signing input: %v", p.KID, err)
	}
	return verifyProof(payload, p, pub)
}

func verifyProof(payload []byte, p Proof, pub crypto.PublicKey) error {
	bad := func(format string, args ...any) error {
		return reject(ErrBadSignature, "proof %q: %s", p.KID, fmt.Sprintf(format, args...))
	}
	alg, err := algFor(pub)
	if err != nil {
		return bad("%v", err)
	}
	if p.KID == "" {
		return bad("empty kid")
	}
	parts := strings.Split(p.JWS, ".")
	if len(parts) != 3 {
		return bad("not a compact JWS (%d parts)", len(parts))
	}
	if parts[1] != "" {
		return bad("payload is not detached")
	}
	// Our own strict reading of the protected header: exactly alg and kid, no
	// duplicates, so that no JOSE parser can see anything else in it.
	rawHdr, err := b64.DecodeString(parts[0])
	if err != nil || b64.EncodeToString(rawHdr) != parts[0] {
		return bad("protected header is not canonical base64url")
	}
	if err := checkStrict(rawHdr, jwsHeaderShape); err != nil {
		return bad("protected header: %v", err)
	}
	var hdr protectedHeader
	if err := json.Unmarshal(rawHdr, &hdr); err != nil {
		return bad("protected header: %v", err)
	}
	if hdr.Alg != alg.String() {
		return bad("alg %q does not match the key (want %q)", hdr.Alg, alg.String())
	}
	if hdr.Kid != p.KID {
		return bad("header kid %q differs from the proof's kid", hdr.Kid)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || b64.EncodeToString(sig) != parts[2] {
		return bad("signature is not canonical base64url")
	}
	if alg == jwa.ES256() {
		if len(sig) != 64 {
			return bad("ES256 signature is %d bytes, want 64", len(sig))
		}
		if new(big.Int).SetBytes(sig[32:]).Cmp(p256HalfOrder) > 0 {
			return bad("ES256 signature has high S (malleable)")
		}
	}
	// jwx's reading must agree.
	msg, err := jws.Parse([]byte(p.JWS), jws.WithCompact())
	if err != nil {
		return bad("jws: %v", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return bad("jws: %d signatures", len(sigs))
	}
	h := sigs[0].ProtectedHeaders()
	keys := h.Keys()
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"alg", "kid"}) {
		return bad("jws: protected header members %v, want exactly [alg kid]", keys)
	}
	if got, ok := h.Algorithm(); !ok || got != alg {
		return bad("jws: alg %v does not match the key (want %v)", got, alg)
	}
	if got, ok := h.KeyID(); !ok || got != p.KID {
		return bad("jws: kid %q differs from the proof's kid", got)
	}
	if _, err := jws.Verify([]byte(p.JWS), jws.WithKey(alg, pub), jws.WithDetachedPayload(payload)); err != nil {
		return bad("signature does not verify: %v", err)
	}
	return nil
}

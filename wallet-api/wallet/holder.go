package wallet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/vc"
)

// DID methods of holders.
const (
	// MethodKey is an Ed25519 did:key (the default).
	MethodKey = "key"
	// MethodJWK is a P-256 did:jwk.
	MethodJWK = "jwk"
)

// HolderInput creates a holder.
type HolderInput struct {
	// Label is optional and may be a person's name: it is stored encrypted.
	Label string `json:"label,omitempty"`
	// DIDMethod is MethodKey (default) or MethodJWK.
	DIDMethod string `json:"didMethod,omitempty"`
}

// Holder is a wallet holder: a patient or clinician with a key and a DID.
type Holder struct {
	ID                 string    `json:"id"`
	DID                string    `json:"did"`
	VerificationMethod string    `json:"verificationMethod"`
	KeyID              string    `json:"keyId"`
	DIDMethod          string    `json:"didMethod"`
	Label              string    `json:"label,omitempty"`
	Created            time.Time `json:"created"`
}

// validate checks the input, reporting every problem.
func (in *HolderInput) validate() error {
	var fe []vc.FieldError
	if in.DIDMethod != "" && in.DIDMethod != MethodKey && in.DIDMethod != MethodJWK {
		fe = append(fe, vc.FieldError{Field: "/didMethod", Detail: `"key" (Ed25519 did:key, the default) or "jwk" (P-256 did:jwk)`})
	}
	if utf8.RuneCountInString(in.Label) > MaxLabel || !utf8.ValidString(in.Label) || strings.ContainsAny(in.Label, "\x00\r\n") {
		fe = append(fe, vc.FieldError{Field: "/label", Detail: fmt.Sprintf("one line of at most %d characters", MaxLabel)})
	}
	if len(fe) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, &vc.InvalidError{Fields: fe})
	}
	return nil
}

// CreateHolder makes a holder: a signing key in Keys, its DID, a data key
// wrapped by Master and a token scoped to the holder, whose secret it
// returns (it is not kept). The token's label names the holder id, never
// the holder's label.
func (s *Service) CreateHolder(ctx context.Context, in HolderInput) (Holder, string, error) {
	in.Label = strings.TrimSpace(in.Label)
	if err := in.validate(); err != nil {
		return Holder{}, "", err
	}
	if in.DIDMethod == "" {
		in.DIDMethod = MethodKey
	}
	id := newID('h')
	r, err := s.newHolderKey(ctx, id, in.DIDMethod)
	if err != nil {
		return Holder{}, "", err
	}
	r.Created = s.now().Truncate(time.Second)
	dk, err := s.newDEK(r)
	if err != nil {
		return Holder{}, "", err
	}
	if in.Label != "" {
		r.Label = dk.seal(kindLabel, id, []byte(in.Label))
	}
	secret, tok, err := s.Tokens.Issue(ctx, Scope(id), "wallet holder "+id, Scope(id))
	if err != nil {
		return Holder{}, "", err
	}
	r.TokenID = tok.ID
	b, err := json.Marshal(r)
	if err == nil {
		err = s.Store.Create(ctx, bucketHolders, id, b)
	}
	if err != nil {
		_ = s.Tokens.Revoke(context.WithoutCancel(ctx), tok.ID)
		return Holder{}, "", fmt.Errorf("failed to store wallet holder: %w", err)
	}
	s.dekCache().put(id, r.DEK, r.dekAAD(), dk)
	return r.holder(in.Label), secret, nil
}

// newHolderKey generates the holder's key and derives its DID.
func (s *Service) newHolderKey(ctx context.Context, id, method string) (*holderRecord, error) {
	alg := keys.Ed25519
	if method == MethodJWK {
		alg = keys.P256
	}
	k, err := s.Keys.Generate(ctx, alg, "wallet holder "+id)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the holder key: %w", err)
	}
	r := &holderRecord{V: holderVersion, ID: id, KeyID: k.ID, DIDMethod: method}
	if method == MethodJWK {
		d, err := did.JWKDID(k.Public)
		if err != nil {
			return nil, err
		}
		r.DID, r.VerificationMethod = d.String(), d.String()+"#0"
		return r, nil
	}
	d, err := did.KeyDID(k.Public)
	if err != nil {
		return nil, err
	}
	doc, err := did.KeyDocument(d, "", false)
	if err != nil {
		return nil, err
	}
	r.DID, r.VerificationMethod = d.String(), doc.VerificationMethod[0].ID
	return r, nil
}

// newDEK makes the holder's random data key and stores it wrapped in r,
// bound to r's identity (r.dekAAD).
func (s *Service) newDEK(r *holderRecord) (*dataKey, error) {
	dek := make([]byte, dekSize)
	defer clear(dek)
	_, _ = rand.Read(dek) // never fails
	wrapped, err := s.Master.Seal(dek, r.dekAAD())
	if err != nil {
		return nil, err
	}
	r.DEK, r.MK = wrapped, s.Master.ID()
	return newDataKey(r.ID, dek)
}

func (r *holderRecord) holder(label string) Holder {
	return Holder{ID: r.ID, DID: r.DID, VerificationMethod: r.VerificationMethod, KeyID: r.KeyID,
		DIDMethod: r.DIDMethod, Label: label, Created: r.Created}
}

// Holder reads a holder, its label decrypted.
func (s *Service) Holder(ctx context.Context, id string) (Holder, error) {
	r, dk, err := s.open(ctx, id)
	if err != nil {
		return Holder{}, err
	}
	var label []byte
	if r.Label != nil {
		if label, err = dk.open(kindLabel, id, r.Label); err != nil {
			return Holder{}, err
		}
	}
	return r.holder(string(label)), nil
}

// Signer is the holder's key with its verification method (did:key:z..#z..
// or did:jwk:...#0), for presentations and key binding. The holder record
// is checked first (its data key opens only for the DID, key and
// verification method it was made with): ErrCorrupt if it was altered.
func (s *Service) Signer(ctx context.Context, holderID string) (vc.Signer, error) {
	r, _, err := s.open(ctx, holderID)
	if err != nil {
		return vc.Signer{}, err
	}
	k, err := s.Keys.Signer(ctx, r.KeyID)
	if err != nil {
		return vc.Signer{}, fmt.Errorf("failed to load the key of holder %s: %w", holderID, err)
	}
	return vc.Signer{Key: k, VerificationMethod: r.VerificationMethod}, nil
}

// DeleteHolder erases a holder. It first shreds the wrapped data key (so
// every record of the holder is unreadable from then on, in every process:
// a cached data key is checked against the stored wrapped key) and revokes
// the holder's token, then deletes the credentials, the disclosure log and
// the holder record. If it fails half way, calling it again finishes.
//
// The holder's signing key stays in the key manager (keys.Manager has no
// delete); it signs nothing once the holder is gone, and is labelled with
// the holder id only.
func (s *Service) DeleteHolder(ctx context.Context, id string) error {
	if !validID(id, 'h') {
		return fmt.Errorf("%w: %q", ErrHolderNotFound, id)
	}
	var tokenID string
	err := s.Store.Update(ctx, bucketHolders, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrHolderNotFound, id)
		}
		r, err := decodeHolder(id, old)
		if err != nil {
			return nil, err
		}
		r.Deleting, r.DEK, r.Label, tokenID = true, nil, nil, r.TokenID
		return json.Marshal(r)
	})
	if err != nil {
		return err
	}
	s.dekCache().forget(id)
	if err := s.Tokens.Revoke(ctx, tokenID); err != nil && !errors.Is(err, auth.ErrInvalidToken) {
		return fmt.Errorf("failed to revoke the token of holder %s: %w", id, err)
	}
	for _, bucket := range []string{bucketCredentials + id, bucketDisclosures + id} {
		ks, err := s.keysOf(ctx, bucket)
		if err != nil {
			return err
		}
		for _, k := range ks {
			if err := s.deleteQuiet(ctx, bucket, k); err != nil {
				return err
			}
		}
	}
	return s.deleteQuiet(ctx, bucketHolders, id)
}

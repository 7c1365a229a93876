package wallet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
)

// Stored is a credential in the wallet.
type Stored struct {
	// ID is the wallet's id of the credential (not the credential's id):
	// "c" and 26 base32 characters of a keyed hash of the credential, so it
	// is the same when the same credential is added again and unrelated
	// to it for anyone without the holder's data key.
	ID string `json:"id"`
	// Format is secure.Verified.Format ("eddsa-rdfc-2022", "vc+jwt",
	// "dc+sd-jwt", ...).
	Format string   `json:"format"`
	Types  []string `json:"types"`
	Issuer string   `json:"issuer"`
	// CredentialID is the credential's own id, if any.
	CredentialID string `json:"credentialId,omitempty"`
	// VCT is the SD-JWT VC type, if any.
	VCT        string     `json:"vct,omitempty"`
	ValidFrom  *time.Time `json:"validFrom,omitempty"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
	Received   time.Time  `json:"received"`
	// Claims is the verified VC view (for an SD-JWT VC every claim, since
	// the holder holds every disclosure).
	Claims vc.Credential `json:"claims"`
	// Credential is exactly what was received: a JSON object, or a JSON
	// string holding a compact JWT or SD-JWT.
	Credential json.RawMessage `json:"credential"`
}

// Filter selects credentials; "" matches any.
type Filter struct {
	// Type matches any of a credential's Types or its VCT.
	Type   string `json:"type,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	Format string `json:"format,omitempty"`
}

func (f Filter) matches(st *Stored) bool {
	return (f.Type == "" || f.Type == st.VCT || slices.Contains(st.Types, f.Type)) &&
		(f.Issuer == "" || f.Issuer == st.Issuer) && (f.Format == "" || f.Format == st.Format)
}

// AddCredential verifies a credential received by the holder and keeps it
// encrypted. input is a JSON object (a credential with proofs, or an
// enveloped credential) or a JSON string holding a compact JWT or SD-JWT
// (a bare compact token is accepted too), at most MaxCredentialBytes
// (ErrTooLarge). A credential that does not parse or verify is refused
// with ErrInvalid wrapping the reason, one issued to someone else with
// ErrNotBound, one past MaxCredentials or MaxCredentialStoreBytes with
// ErrLimit. Adding the same credential again returns the stored one.
func (s *Service) AddCredential(ctx context.Context, holderID string, input json.RawMessage) (Stored, error) {
	in, err := parseReceived(input)
	if err != nil {
		return Stored{}, err
	}
	r, dk, err := s.open(ctx, holderID)
	if err != nil {
		return Stored{}, err
	}
	id := "c" + idEncoding.EncodeToString(dk.sum(kindCredential, in.canon)[:idBytes])
	if st, err := s.credential(ctx, dk, id); !errors.Is(err, ErrCredentialNotFound) {
		return st, err
	}
	if s.Verify == nil {
		return Stored{}, errors.New("wallet: Service.Verify is not set")
	}
	v, err := s.Verify(ctx, in.input)
	if err != nil {
		return Stored{}, fmt.Errorf("%w: the credential does not verify: %w", ErrInvalid, err)
	}
	st, err := s.describe(ctx, r, in, v)
	if err != nil {
		return Stored{}, err
	}
	st.ID = id
	return s.storeCredential(ctx, dk, st, sameObject(v.Credential, in.input))
}

// storeCredential counts and writes a new credential; a concurrent add of
// the same credential makes it return that one.
func (s *Service) storeCredential(ctx context.Context, dk *dataKey, st Stored, claimsAreCredential bool) (Stored, error) {
	sealed, err := s.reserveCredential(ctx, dk.holder, func(seq uint64) ([]byte, error) {
		pt, err := encodeCredential(seq, &st, claimsAreCredential)
		if err != nil {
			return nil, err
		}
		return dk.seal(kindCredential, st.ID, pt), nil
	})
	if errors.Is(err, ErrLimit) {
		// Concurrent adds of this credential may hold the last places.
		if st, gerr := s.credential(ctx, dk, st.ID); gerr == nil {
			return st, nil
		}
	}
	if err != nil {
		return Stored{}, err
	}
	if err = s.Store.Create(ctx, bucketCredentials+dk.holder, st.ID, sealed); err != nil {
		if rerr := s.releaseCredential(ctx, dk.holder, len(sealed)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if errors.Is(err, kv.ErrExists) {
			return s.credential(ctx, dk, st.ID)
		}
		return Stored{}, fmt.Errorf("failed to store the credential: %w", err)
	}
	return st, nil
}

// Credential reads one credential of a holder.
func (s *Service) Credential(ctx context.Context, holderID, id string) (Stored, error) {
	_, dk, err := s.open(ctx, holderID)
	if err != nil {
		return Stored{}, err
	}
	return s.credential(ctx, dk, id)
}

func (s *Service) credential(ctx context.Context, dk *dataKey, id string) (Stored, error) {
	if !validID(id, 'c') {
		return Stored{}, fmt.Errorf("%w: %q", ErrCredentialNotFound, id)
	}
	b, err := s.Store.Get(ctx, bucketCredentials+dk.holder, id)
	if errors.Is(err, kv.ErrNotFound) {
		return Stored{}, fmt.Errorf("%w: %s", ErrCredentialNotFound, id)
	}
	if err != nil {
		return Stored{}, err
	}
	st, _, err := decodeCredential(dk, id, b, Filter{})
	return st, err
}

// Credentials lists a holder's credentials that match f, newest first.
func (s *Service) Credentials(ctx context.Context, holderID string, f Filter) ([]Stored, error) {
	_, dk, err := s.open(ctx, holderID)
	if err != nil {
		return nil, err
	}
	type entry struct {
		st  Stored
		seq uint64
	}
	var all []entry
	err = s.Store.List(ctx, bucketCredentials+holderID, "", func(id string, b []byte) error {
		st, seq, err := decodeCredential(dk, id, b, f)
		if err == nil && st.ID != "" {
			all = append(all, entry{st, seq})
		}
		if errors.Is(err, errNoMatch) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(b.st.Received.Compare(a.st.Received), cmp.Compare(b.seq, a.seq))
	})
	out := make([]Stored, len(all))
	for i := range all {
		out[i] = all[i].st
	}
	return out, nil
}

// DeleteCredential removes a credential from a holder's wallet.
func (s *Service) DeleteCredential(ctx context.Context, holderID, id string) error {
	if _, err := s.record(ctx, holderID); err != nil {
		return err
	}
	if !validID(id, 'c') {
		return fmt.Errorf("%w: %q", ErrCredentialNotFound, id)
	}
	// The sealed size is uncounted: read it first.
	b, err := s.Store.Get(ctx, bucketCredentials+holderID, id)
	if err == nil {
		err = s.Store.Delete(ctx, bucketCredentials+holderID, id)
	}
	if errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrCredentialNotFound, id)
	}
	if err != nil {
		return err
	}
	return s.releaseCredential(ctx, holderID, len(b))
}

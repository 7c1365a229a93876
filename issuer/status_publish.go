package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

// ListDocument is a signed status list credential as served.
type ListDocument struct {
	Credential []byte
	// Seq is the ledger version it reflects; Updated that version's time.
	Seq     uint64
	Updated time.Time
	Subject string
	// VM is the verification method that signed it.
	VM string
}

type signedList struct {
	Seq uint64 `json:"seq"`
	// VM is the key that signed: a rotation of the issuer's key re-signs.
	VM         string          `json:"vm"`
	Time       string          `json:"time"`
	Credential json.RawMessage `json:"credential"`
}

// StatusList returns the signed status list credential of a tenant's list at
// the ledger's current version, signing it when the ledger has moved since
// it was last signed (by any process).
func (s *Service) StatusList(ctx context.Context, tenantID, id string) (*ListDocument, error) {
	if s.ledger == nil {
		return nil, fmt.Errorf("%w: status lists are not configured", ErrNotFound)
	}
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	meta, err := s.listMeta(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	st, err := s.ledger.State(ctx, meta.URL, 0)
	if err != nil {
		return nil, err
	}
	if st.StatusList == nil {
		return nil, fmt.Errorf("%w: status list %s is not on the ledger", ErrNotFound, meta.URL)
	}
	updated, _ := time.Parse(registry.TimeLayout, st.Time)
	doc := &ListDocument{Seq: st.Seq, Updated: updated, Subject: meta.URL}
	if st.StatusList.Issuer != t.DID || st.StatusList.Purpose != meta.Purpose {
		return nil, fmt.Errorf("the ledger's subject %s is not a %s list of %s", meta.URL, meta.Purpose, t.DID)
	}
	signer, err := s.signer(ctx, t)
	if err != nil {
		return nil, err
	}
	doc.VM = signer.VerificationMethod
	if b, err := s.kv.Get(ctx, bucketStatus, signedKey(t.ID, id)); err == nil {
		var sl signedList
		if json.Unmarshal(b, &sl) == nil && sl.Seq == st.Seq && sl.VM == signer.VerificationMethod {
			doc.Credential = sl.Credential
			return doc, nil
		}
	} else if !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	list, err := status.FromBytes(st.StatusList.Bits)
	if err != nil {
		return nil, err
	}
	cred, err := status.NewListCredential(meta.URL, t.DID, meta.Purpose, list, updated)
	if err != nil {
		return nil, err
	}
	if subj, ok := cred["credentialSubject"].(map[string]any); ok {
		subj["ttl"] = StatusListTTL.Milliseconds()
	}
	secured, err := s.sec.Issue(ctx, cred, signer, secure.IssueOptions{Format: secure.DataIntegrity, Now: s.now()})
	if err != nil {
		return nil, fmt.Errorf("failed to sign status list %s: %w", meta.URL, err)
	}
	if doc.Credential, err = vc.Marshal(secured); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(signedList{Seq: st.Seq, VM: signer.VerificationMethod, Time: st.Time, Credential: doc.Credential})
	if err := s.kv.Put(ctx, bucketStatus, signedKey(t.ID, id), b); err != nil {
		return nil, err
	}
	return doc, nil
}

// withStatusBits fills the current ledger value of each status entry.
func (s *Service) withStatusBits(ctx context.Context, r *Record, states map[string]registry.SubjectState) error {
	if s.ledger == nil {
		return nil
	}
	for i := range r.Status {
		ref := &r.Status[i]
		st, ok := states[ref.List]
		if !ok {
			var err error
			if st, err = s.ledger.State(ctx, ref.List, 0); err != nil {
				return err
			}
			states[ref.List] = st
		}
		if st.StatusList == nil || ref.Index >= st.StatusList.Size {
			continue
		}
		v := registry.StatusBit(st.StatusList.Bits, ref.Index)
		ref.Set = &v
	}
	return nil
}

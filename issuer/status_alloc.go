package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/status"
)

// reserved are indexes this process reserved from one list and has not used.
type reserved struct {
	list listMeta
	idx  []int
}

// statusPurposes decides which status entries a credential gets: those the
// options ask for, else revocation and suspension for license credentials
// (when the service has status lists; the server always does).
func statusPurposes(o IssueOptions, cred vc.Credential, configured bool) ([]string, *vc.FieldError) {
	if o.CredentialStatus == nil {
		if configured && cred.HasType(healthcare.MedicalLicense) {
			return []string{status.PurposeRevocation, status.PurposeSuspension}, nil
		}
		return nil, nil
	}
	raw := o.CredentialStatus
	var list []json.RawMessage
	switch {
	case string(raw) == "false" || string(raw) == "null":
		return nil, nil
	case len(raw) > 0 && raw[0] == '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, &vc.FieldError{Field: "/options/credentialStatus", Detail: "an object, an array of objects, or false"}
		}
	default:
		list = []json.RawMessage{raw}
	}
	var out []string
	for i, item := range list {
		var e struct {
			Type    string `json:"type"`
			Purpose string `json:"statusPurpose"`
		}
		ptr := "/options/credentialStatus"
		if raw[0] == '[' {
			ptr += "/" + strconv.Itoa(i)
		}
		if err := json.Unmarshal(item, &e); err != nil {
			return nil, &vc.FieldError{Field: ptr, Detail: "an object with type and statusPurpose"}
		}
		if e.Type != status.TypeEntry {
			return nil, &vc.FieldError{Field: ptr + "/type", Detail: "must be " + status.TypeEntry}
		}
		switch e.Purpose {
		case status.PurposeRevocation, status.PurposeSuspension:
		case "":
			return nil, &vc.FieldError{Field: ptr + "/statusPurpose", Detail: "required: revocation or suspension"}
		default:
			return nil, &vc.FieldError{Field: ptr + "/statusPurpose", Detail: fmt.Sprintf("%q: this issuer keeps revocation and suspension lists", e.Purpose)}
		}
		if slices.Contains(out, e.Purpose) {
			return nil, &vc.FieldError{Field: ptr + "/statusPurpose", Detail: "listed twice"}
		}
		out = append(out, e.Purpose)
	}
	return out, nil
}

// attachStatus allocates an index in the tenant's open list of each purpose
// and writes the credentialStatus entries.
func (s *Service) attachStatus(ctx context.Context, t Tenant, cred map[string]any, purposes []string) ([]StatusRef, error) {
	if len(purposes) == 0 {
		return nil, nil
	}
	if s.ledger == nil {
		return nil, errors.New("status lists are not configured on this issuer service")
	}
	refs := make([]StatusRef, 0, len(purposes))
	entries := make([]any, 0, len(purposes))
	for _, p := range purposes {
		ref, err := s.allocate(ctx, t, p)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
		e := status.Entry{ID: ref.List + "#" + strconv.Itoa(ref.Index), Purpose: p, Index: ref.Index, ListCredential: ref.List}
		entries = append(entries, e.Object())
	}
	if len(entries) == 1 {
		cred["credentialStatus"] = entries[0]
	} else {
		cred["credentialStatus"] = entries
	}
	return refs, nil
}

// allocate hands out one index of the tenant's open list of purpose.
func (s *Service) allocate(ctx context.Context, t Tenant, purpose string) (StatusRef, error) {
	key := t.ID + "\x00" + purpose
	mu := s.status.listLock("alloc\x00" + key)
	mu.Lock()
	defer mu.Unlock()
	s.status.mu.Lock()
	r := s.status.pools[key]
	s.status.mu.Unlock()
	if r == nil || len(r.idx) == 0 {
		var err error
		if r, err = s.reserve(ctx, t, purpose); err != nil {
			return StatusRef{}, err
		}
		s.status.mu.Lock()
		s.status.pools[key] = r
		s.status.mu.Unlock()
	}
	i := r.idx[len(r.idx)-1]
	r.idx = r.idx[:len(r.idx)-1]
	return StatusRef{Purpose: purpose, List: r.list.URL, Index: i}, nil
}

// reserve takes a block of random unused indexes from the open list, opening
// the next list when it is full.
func (s *Service) reserve(ctx context.Context, t Tenant, purpose string) (*reserved, error) {
	for attempt := 0; attempt < 8; attempt++ {
		meta, err := s.openList(ctx, t, purpose)
		if err != nil {
			return nil, err
		}
		var got []int
		var full bool
		err = s.kv.Update(ctx, bucketStatus, listKey(t.ID, meta.ID), func(old []byte) ([]byte, error) {
			got, full = nil, false
			var m listMeta
			if err := json.Unmarshal(old, &m); err != nil {
				return nil, fmt.Errorf("status list %s: %w", meta.ID, err)
			}
			var a status.Allocator
			if err := a.UnmarshalBinary(m.Alloc); err != nil {
				return nil, fmt.Errorf("status list %s allocator: %w", meta.ID, err)
			}
			n := min(statusBlock, a.Free())
			if n == 0 || m.Full {
				m.Full, full = true, true
				return json.Marshal(m)
			}
			if got, err = a.Take(n); err != nil {
				return nil, err
			}
			if m.Alloc, err = a.MarshalBinary(); err != nil {
				return nil, err
			}
			m.Full = a.Free() == 0
			meta = m
			return json.Marshal(m)
		})
		if err != nil {
			return nil, err
		}
		if !full {
			return &reserved{list: meta, idx: got}, nil
		}
		if _, err := s.createList(ctx, t, purpose, meta.N+1); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("could not reserve status list indexes: lists keep filling up")
}

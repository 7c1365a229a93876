package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

const bucketIssued = "issued"

// Record is the inventory entry of an issued credential: enough to find,
// renew, revoke and audit it, and no personal data beyond the subject's DID.
type Record struct {
	ID         string     `json:"id"`
	Issuer     string     `json:"issuer"`
	Types      []string   `json:"types"`
	Subject    string     `json:"subject,omitempty"`
	Format     string     `json:"format"`
	ValidFrom  *time.Time `json:"validFrom,omitempty"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
	Issued     time.Time  `json:"issued"`
	// Digest is the SHA-256 of the secured form as returned (the JSON
	// object, or for enveloped formats the token).
	Digest string `json:"digest"`
	// Status is the credential's status entries (index and list), with each
	// bit's current ledger value when read; Events its status changes.
	Status []StatusRef   `json:"credentialStatus,omitempty"`
	Events []StatusEvent `json:"statusEvents,omitempty"`
}

func newRecord(tenant string, c vc.Credential, f secure.Format, secured any, now time.Time) (Record, error) {
	r := Record{ID: c.ID(), Issuer: tenant, Types: c.Types(), Format: string(f), Issued: now}
	if ids := c.SubjectIDs(); len(ids) > 0 {
		r.Subject = ids[0]
	}
	if t, ok := c.ValidFrom(); ok {
		r.ValidFrom = &t
	}
	if t, ok := c.ValidUntil(); ok {
		r.ValidUntil = &t
	}
	b, err := securedBytes(secured)
	if err != nil {
		return Record{}, err
	}
	r.Digest = digest(b)
	return r, nil
}

// securedBytes is what the digest covers: an enveloped credential's token,
// or the JSON of a credential with an embedded proof.
func securedBytes(secured any) ([]byte, error) {
	if m, ok := secured.(map[string]any); ok && vc.Strings(m["type"]) != nil && slices.Contains(vc.Strings(m["type"]), vc.TypeEnvelopedCredential) {
		id, _ := m["id"].(string)
		if _, token, ok := strings.Cut(id, ","); ok {
			return []byte(token), nil
		}
	}
	return vc.Marshal(secured)
}

func recordKey(tenant, id string) string { return tenant + "\x00" + id }

// record stores one inventory entry; a credential id is issued once.
func (s *Service) record(ctx context.Context, r Record) error {
	b, _ := json.Marshal(r)
	err := s.kv.Create(ctx, bucketIssued, recordKey(r.Issuer, r.ID), b)
	if errors.Is(err, kv.ErrExists) {
		return fmt.Errorf("%w: credential %s was already issued", ErrExists, r.ID)
	}
	return err
}

// Query filters the inventory.
type Query struct {
	Type    string
	Subject string
	After   string // cursor: the last id of the previous page
	Limit   int
}

// MaxPage bounds one page of the inventory.
const MaxPage = 1000

// Inventory lists a tenant's issued credentials by id, filtered; the cursor
// for the next page is the last id returned when the page is full.
func (s *Service) Inventory(ctx context.Context, tenantID string, q Query) ([]Record, string, error) {
	if _, err := s.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	if q.Limit <= 0 || q.Limit > MaxPage {
		q.Limit = 100
	}
	var out []Record
	errFull := errors.New("full")
	err := s.kv.List(ctx, bucketIssued, tenantID+"\x00", func(key string, v []byte) error {
		if q.After != "" && key <= recordKey(tenantID, q.After) {
			return nil
		}
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("failed to decode inventory record %q: %w", key, err)
		}
		if q.Type != "" && !slices.Contains(r.Types, q.Type) || q.Subject != "" && r.Subject != q.Subject {
			return nil
		}
		out = append(out, r)
		if len(out) == q.Limit {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, "", err
	}
	next := ""
	if errors.Is(err, errFull) {
		next = out[len(out)-1].ID
	}
	states := map[string]registry.SubjectState{}
	for i := range out {
		if err := s.withStatusBits(ctx, &out[i], states); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// Record reads one inventory entry, with the current ledger value of each
// status entry.
func (s *Service) Record(ctx context.Context, tenantID, id string) (Record, error) {
	r, err := s.loadRecord(ctx, tenantID, id)
	if err != nil {
		return Record{}, err
	}
	return r, s.withStatusBits(ctx, &r, map[string]registry.SubjectState{})
}

// loadRecord reads one inventory entry as stored.
func (s *Service) loadRecord(ctx context.Context, tenantID, id string) (Record, error) {
	b, err := s.kv.Get(ctx, bucketIssued, recordKey(tenantID, id))
	if errors.Is(err, kv.ErrNotFound) {
		return Record{}, fmt.Errorf("%w: credential %s of issuer %s", ErrNotFound, id, tenantID)
	}
	if err != nil {
		return Record{}, err
	}
	var r Record
	return r, json.Unmarshal(b, &r)
}

package didapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
)

// ServiceInput is one service of an update request. id is a fragment ("#hub").
type ServiceInput struct {
	ID              string `json:"id"`
	Type            string `json:"type"`
	ServiceEndpoint string `json:"serviceEndpoint"`
}

// Limits of service updates.
const (
	maxServices        = 20
	maxServiceEndpoint = 2000
)

var (
	serviceFragment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	serviceType     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._:/#-]{0,199}$`)
	keyFragment     = regexp.MustCompile(`^key-([1-9][0-9]{0,8})$`)
)

// Rotate moves a hosted did:credence DID to its pre-committed next update key,
// commits to a freshly made one and makes the new key the document's only
// verification method.
func (h *Hosted) Rotate(ctx context.Context, id string) (LedgerResult, error) {
	return h.update(ctx, id, func(doc *did.Document, newKey credKey) error {
		n := 0
		for _, vm := range doc.VerificationMethod {
			_, frag, _ := strings.Cut(vm.ID, "#")
			if m := keyFragment.FindStringSubmatch(frag); m != nil {
				n = max(n, atoi(m[1]))
			}
		}
		setKey(doc, verificationMethod(doc.ID, n+1, newKey.mk))
		return nil
	})
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// UpdateServices replaces the services of a hosted did:credence DID; its
// verification methods stay. Pre-rotation makes the did.update rotate the ledger's
// update key all the same (see the notes at the top of credence.go).
func (h *Hosted) UpdateServices(ctx context.Context, id string, services []ServiceInput) (LedgerResult, error) {
	if len(services) > maxServices {
		return LedgerResult{}, &invalidField{"services", fmt.Sprintf("at most %d services", maxServices)}
	}
	var out []did.Service
	for i, s := range services {
		field := fmt.Sprintf("services[%d]", i)
		frag := strings.TrimPrefix(s.ID, id) // an absolute id of this DID is accepted
		frag, ok := strings.CutPrefix(frag, "#")
		switch {
		case !ok || !serviceFragment.MatchString(frag):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q must be a fragment such as \"#hub\": a letter or digit, then up to 63 letters, digits, '.', '_' or '-'", s.ID)}
		case strings.HasPrefix(frag, "key-"):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q is reserved for verification methods", s.ID)}
		case slices.ContainsFunc(out, func(o did.Service) bool { return o.ID == id+"#"+frag }):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q is listed twice", s.ID)}
		case !serviceType.MatchString(s.Type):
			return LedgerResult{}, &invalidField{field + ".type", fmt.Sprintf("service type %q must be a name such as \"LinkedDomains\" (letters, digits, '.', '_', ':', '/', '#', '-'; at most 200)", s.Type)}
		}
		if err := checkEndpoint(s.ServiceEndpoint); err != nil {
			return LedgerResult{}, &invalidField{field + ".serviceEndpoint", err.Error()}
		}
		ep, _ := json.Marshal(s.ServiceEndpoint)
		out = append(out, did.Service{ID: id + "#" + frag, Type: did.StringSet{s.Type}, ServiceEndpoint: ep})
	}
	return h.update(ctx, id, func(doc *did.Document, _ credKey) error {
		doc.Service = out
		return nil
	})
}

// checkEndpoint accepts an absolute https URL with a host and no credentials.
func checkEndpoint(s string) error {
	if len(s) > maxServiceEndpoint {
		return fmt.Errorf("serviceEndpoint is longer than %d characters", maxServiceEndpoint)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("serviceEndpoint %q must be an absolute https URL without credentials", s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("serviceEndpoint %q contains spaces or control characters", s)
	}
	return nil
}

// update writes a did.update: the ledger's update key moves to the committed next
// key, a new next key is made and committed, the op is signed by the current update
// key, and edit changes the document (given the new update key).
func (h *Hosted) update(ctx context.Context, id string, edit func(doc *did.Document, newUpdate credKey) error) (LedgerResult, error) {
	h.ledgerMu.Lock()
	defer h.ledgerMu.Unlock()
	s, err := h.load(ctx, id)
	if err != nil {
		return LedgerResult{}, err
	}
	next, err := h.nextKey(ctx, s)
	if err != nil {
		return LedgerResult{}, err
	}
	doc := s.doc
	if err := edit(&doc, next); err != nil {
		return LedgerResult{}, err
	}
	if err := doc.Validate(); err != nil {
		return LedgerResult{}, &invalidField{"services", err.Error()}
	}
	docJSON, err := json.Marshal(&doc)
	if err != nil {
		return LedgerResult{}, err
	}
	fresh, err := h.newKey(ctx, next.alg, "did:credence update key "+s.rec.Label)
	if err != nil {
		return LedgerResult{}, err
	}
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: id, Seq: s.st.Seq + 1, Prev: s.st.Hash,
		Time: h.opTime(s.st.Time), Doc: docJSON, UpdateKeys: []string{next.mk}, NextKeyHashes: []string{registry.KeyHash(fresh.mk)}}
	if err := h.sign(ctx, op, s.update); err != nil {
		return LedgerResult{}, err
	}
	// Remember the fresh key before the op can land, so the commitment is never
	// to a key the record does not know.
	if err := h.editRecord(ctx, id, func(r *Record) { r.Pending = append(r.Pending, fresh.id) }); err != nil {
		return LedgerResult{}, err
	}
	receipt, err := h.submit(ctx, op)
	if err != nil {
		_ = h.editRecord(context.WithoutCancel(ctx), id, func(r *Record) {
			r.Pending = slices.DeleteFunc(r.Pending, func(p string) bool { return p == fresh.id })
		})
		return LedgerResult{}, err
	}
	var rec Record
	err = h.editRecord(context.WithoutCancel(ctx), id, func(r *Record) {
		r.KeyIDs, r.Pending = []string{next.id, s.recovery.id, fresh.id}, nil
		rec = *r
	})
	if err != nil { // the op is on the ledger; the next op reconciles the record
		rec = s.rec
		rec.KeyIDs = []string{next.id, s.recovery.id, fresh.id}
	}
	return LedgerResult{Record: rec, Document: &doc, Receipt: receipt}, nil
}

// Deactivate deactivates a hosted did:credence DID with a did.deactivate signed by
// its recovery key. It is terminal.
func (h *Hosted) Deactivate(ctx context.Context, id string) (LedgerResult, error) {
	h.ledgerMu.Lock()
	defer h.ledgerMu.Unlock()
	s, err := h.load(ctx, id)
	if err != nil {
		return LedgerResult{}, err
	}
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDDeactivate, Subject: id, Seq: s.st.Seq + 1, Prev: s.st.Hash, Time: h.opTime(s.st.Time)}
	if err := h.sign(ctx, op, s.recovery); err != nil {
		return LedgerResult{}, err
	}
	receipt, err := h.submit(ctx, op)
	if err != nil {
		return LedgerResult{}, err
	}
	return LedgerResult{Record: s.rec, Document: &s.doc, Receipt: receipt}, nil
}

// editRecord changes the stored record of a did:credence DID atomically.
func (h *Hosted) editRecord(ctx context.Context, id string, edit func(*Record)) error {
	return h.kv.Update(ctx, bucketDIDs, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotHosted, id)
		}
		var r Record
		if err := json.Unmarshal(old, &r); err != nil {
			return nil, fmt.Errorf("failed to decode hosted DID: %w", err)
		}
		edit(&r)
		return json.Marshal(r)
	})
}

package issuer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

// Status lists. A tenant has, per purpose (revocation, suspension), one open
// W3C Bitstring Status List from which indexes are handed out at random and
// never reused; a full list is closed and the next one opened. Every list is a
// subject of the ledger: statuslist.create when it opens, one statuslist.update
// per change call (all the bits a call flips in that list, in one op), each
// signed by the tenant's DID and carrying the hash of the resulting bitstring.
// The ledger's state is the source of truth for the bits; the signed status
// list credential is derived from it and cached per ledger version.

const (
	bucketStatus = "statuslists"
	// statusBlock is how many indexes one store write reserves for a process.
	statusBlock = 256
	// MaxStatusIDs bounds the credentials of one status change call.
	MaxStatusIDs = 50000
	// maxReason bounds a status change reason.
	maxReason = 500
	// StatusListTTL is the ttl a status list credential states: how long a
	// verifier may use it without refetching (verifiers of this service are
	// told of changes at once through registry events).
	StatusListTTL = 5 * time.Minute
)

// Status change actions.
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
)

// StatusLedger is the part of the registry the status lists use.
type StatusLedger interface {
	Submit(ctx context.Context, raw []byte) (registry.Receipt, error)
	State(ctx context.Context, subject string, upTo uint64) (registry.SubjectState, error)
}

// OpSigner signs ledger ops as a DID's controller (its current update key).
type OpSigner interface {
	SignOp(ctx context.Context, did string, op *registry.Op) error
}

// WithStatusLists enables status lists: ops go to ledger, signed through
// signer; list URLs are baseURL + "/status/{issuer}/{list}".
func WithStatusLists(ledger StatusLedger, signer OpSigner, baseURL string) Option {
	return func(s *Service) {
		s.ledger, s.opSigner, s.baseURL = ledger, signer, strings.TrimRight(baseURL, "/")
	}
}

// WithStatusListSize sets the bits of new status lists (tests; at least
// status.MinBits).
func WithStatusListSize(bits int) Option { return func(s *Service) { s.listBits = bits } }

// OnStatusChange registers f, called with a list's URL as soon as a change
// of it is on the ledger (before UpdateStatus returns): the server drops the
// list from its own verifier's cache there, so a revocation is effective in
// this process at once (other processes learn it from registry events). Set
// it before use.
func (s *Service) OnStatusChange(f func(url string)) { s.onChange = f }

// StatusRef is one status entry of an issued credential.
type StatusRef struct {
	Purpose string `json:"statusPurpose"`
	List    string `json:"statusListCredential"`
	Index   int    `json:"statusListIndex"`
	// Set is the bit's current value on the ledger (filled when read).
	Set *bool `json:"set,omitempty"`
}

// StatusEvent is one status change of a credential, kept in its inventory
// record (the reason stays with the issuer; the ledger records bits only).
type StatusEvent struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
	// List and Seq name the ledger op: the list's subject and its version.
	List string `json:"list"`
	Seq  uint64 `json:"seq"`
}

// listMeta is a tenant's status list as the store keeps it.
type listMeta struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Purpose string    `json:"purpose"`
	URL     string    `json:"url"`
	Bits    int       `json:"bits"`
	N       int       `json:"n"`
	Created time.Time `json:"created"`
	Full    bool      `json:"full,omitempty"`
	// Alloc is the allocator's state (which indexes are taken).
	Alloc []byte `json:"alloc"`
}

func listKey(tenant, id string) string      { return "l\x00" + tenant + "\x00" + id }
func openKey(tenant, purpose string) string { return "o\x00" + tenant + "\x00" + purpose }
func signedKey(tenant, id string) string    { return "s\x00" + tenant + "\x00" + id }

// listID names list n of a purpose with a random suffix, so nobody can
// claim a tenant's next list URL on the ledger before the tenant does.
func listID(purpose string, n int) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return purpose + "-" + strconv.Itoa(n) + "-" + hex.EncodeToString(b[:])
}

// listNumber is n of a list id made by listID (-1 when it is not one).
func listNumber(id, purpose string) int {
	rest, ok := strings.CutPrefix(id, purpose+"-")
	if !ok {
		return -1
	}
	num, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}
func (s *Service) listURL(tenant, id string) string {
	return s.baseURL + "/status/" + tenant + "/" + id
}

// reserved are indexes this process reserved from one list and has not used.
type reserved struct {
	list listMeta
	idx  []int
}

// statusState is the in-process part of status lists.
type statusState struct {
	mu    sync.Mutex
	pools map[string]*reserved // tenant \x00 purpose
	locks sync.Map             // list URL -> *sync.Mutex
}

func (st *statusState) listLock(url string) *sync.Mutex {
	m, _ := st.locks.LoadOrStore(url, &sync.Mutex{})
	return m.(*sync.Mutex)
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

// openList returns the tenant's open list of purpose, creating the first.
func (s *Service) openList(ctx context.Context, t Tenant, purpose string) (listMeta, error) {
	id, err := s.kv.Get(ctx, bucketStatus, openKey(t.ID, purpose))
	if errors.Is(err, kv.ErrNotFound) {
		return s.createList(ctx, t, purpose, 1)
	}
	if err != nil {
		return listMeta{}, err
	}
	return s.listMeta(ctx, t.ID, string(id))
}

func (s *Service) listMeta(ctx context.Context, tenant, id string) (listMeta, error) {
	b, err := s.kv.Get(ctx, bucketStatus, listKey(tenant, id))
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, kv.ErrInvalidName) {
		return listMeta{}, fmt.Errorf("%w: status list %s of issuer %s", ErrNotFound, id, tenant)
	}
	if err != nil {
		return listMeta{}, err
	}
	var m listMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return listMeta{}, fmt.Errorf("status list %s: %w", id, err)
	}
	return m, nil
}

// createList opens list n of purpose: its statuslist.create on the ledger,
// its record, and the open pointer. Racing creators (several processes) end
// with one list: the ledger accepts one create per subject.
func (s *Service) createList(ctx context.Context, t Tenant, purpose string, n int) (listMeta, error) {
	id := listID(purpose, n)
	url := s.listURL(t.ID, id)
	bits := s.listBits
	if bits == 0 {
		bits = status.MinBits
	}
	st, err := s.ledger.State(ctx, url, 0)
	if err != nil {
		return listMeta{}, err
	}
	if st.Seq == 0 {
		op := registry.NewStatusListOp(registry.StatusListCreate, url, 1, "", s.opTime(""), registry.StatusListChange{
			Issuer: t.DID, Purpose: purpose, Size: bits, ListHash: registry.ListHash(make([]byte, bits/8))})
		if err := s.submitOp(ctx, t, op); err != nil && !errors.Is(err, registry.ErrSubjectExists) && !errors.Is(err, registry.ErrReplay) {
			return listMeta{}, fmt.Errorf("failed to record status list %s on the ledger: %w", url, err)
		}
		if st, err = s.ledger.State(ctx, url, 0); err != nil {
			return listMeta{}, err
		}
	}
	if st.StatusList == nil || st.StatusList.Issuer != t.DID || st.StatusList.Purpose != purpose {
		return listMeta{}, fmt.Errorf("the ledger's subject %s is not a %s list of %s", url, purpose, t.DID)
	}
	a, err := status.NewAllocator(st.StatusList.Size, nil)
	if err != nil {
		return listMeta{}, err
	}
	alloc, err := a.MarshalBinary()
	if err != nil {
		return listMeta{}, err
	}
	meta := listMeta{ID: id, Tenant: t.ID, Purpose: purpose, URL: url, Bits: st.StatusList.Size, N: n, Created: s.now().UTC().Truncate(time.Second), Alloc: alloc}
	b, _ := json.Marshal(meta)
	if err := s.kv.Create(ctx, bucketStatus, listKey(t.ID, id), b); err != nil && !errors.Is(err, kv.ErrExists) {
		return listMeta{}, err
	}
	// Move the open pointer forward (never back).
	err = s.kv.Update(ctx, bucketStatus, openKey(t.ID, purpose), func(old []byte) ([]byte, error) {
		if listNumber(string(old), purpose) >= n {
			return old, nil
		}
		return []byte(id), nil
	})
	if err != nil {
		return listMeta{}, err
	}
	return s.listMeta(ctx, t.ID, id)
}

func (s *Service) submitOp(ctx context.Context, t Tenant, op *registry.Op) error {
	if err := s.opSigner.SignOp(ctx, t.DID, op); err != nil {
		return err
	}
	raw, err := json.Marshal(op)
	if err != nil {
		return err
	}
	_, err = s.ledger.Submit(ctx, raw)
	return err
}

// opTime is now in the ledger's layout, never before last.
func (s *Service) opTime(last string) string {
	t := s.now().UTC().Truncate(time.Second).Format(registry.TimeLayout)
	if last > t {
		return last
	}
	return t
}

// StatusRequest changes the status of credentials (VC-API's
// /credentials/status, plus a bulk form). Either credentialId or
// credentialIds; action is revoke, suspend or reinstate. The VC-API form
// credentialStatus: [{"type": "BitstringStatusListCredential", "status":
// "revoked" | "suspended" | "active"}] is accepted in place of action.
type StatusRequest struct {
	CredentialID     string           `json:"credentialId,omitempty"`
	CredentialIDs    []string         `json:"credentialIds,omitempty"`
	Action           string           `json:"action,omitempty"`
	Reason           string           `json:"reason,omitempty"`
	CredentialStatus []vcapiStatusReq `json:"credentialStatus,omitempty"`
}

type vcapiStatusReq struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

// StatusResult reports a status change.
type StatusResult struct {
	Action  string     `json:"action"`
	Updated int        `json:"updated"`
	IDs     []string   `json:"credentialIds"`
	Ops     []StatusOp `json:"ledgerOps"`
}

// StatusOp is one ledger op a status change made.
type StatusOp struct {
	List  string `json:"statusListCredential"`
	Seq   uint64 `json:"seq"`
	Index uint64 `json:"index"`
	Set   int    `json:"set"`
	Clear int    `json:"clear"`
}

// normalize checks the request and returns the action and the ids.
func (r *StatusRequest) normalize() (string, []string, error) {
	var p fields
	action := r.Action
	for i, cs := range r.CredentialStatus {
		ptr := fmt.Sprintf("/credentialStatus/%d", i)
		if cs.Type != "" && cs.Type != status.TypeListCredential && cs.Type != status.TypeEntry {
			p.add(ptr+"/type", "must be "+status.TypeListCredential)
		}
		a := map[string]string{"revoked": ActionRevoke, "suspended": ActionSuspend, "active": ActionReinstate, "reinstated": ActionReinstate}[cs.Status]
		switch {
		case a == "":
			p.add(ptr+"/status", "revoked, suspended or active")
		case action != "" && action != a:
			p.add(ptr+"/status", "conflicts with the action "+action)
		default:
			action = a
		}
	}
	switch action {
	case ActionRevoke, ActionSuspend, ActionReinstate:
	case "":
		p.add("/action", "required: revoke, suspend or reinstate")
	default:
		p.add("/action", fmt.Sprintf("%q: revoke, suspend or reinstate", action))
	}
	if len(r.Reason) > maxReason || strings.ContainsAny(r.Reason, "\x00") {
		p.add("/reason", fmt.Sprintf("at most %d bytes of text", maxReason))
	}
	ids := slices.Clone(r.CredentialIDs)
	if r.CredentialID != "" {
		ids = append(ids, r.CredentialID)
	}
	switch {
	case len(ids) == 0:
		p.add("/credentialId", "required (or credentialIds)")
	case len(ids) > MaxStatusIDs:
		p.add("/credentialIds", fmt.Sprintf("at most %d per call", MaxStatusIDs))
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if id == "" || seen[id] {
			p.add(fmt.Sprintf("/credentialIds/%d", i), "empty or repeated")
		}
		seen[id] = true
	}
	if len(p) > 0 {
		return "", nil, &Rejection{Malformed: true, Fields: p}
	}
	return action, ids, nil
}

// UpdateStatus revokes, suspends or reinstates credentials of a tenant: all
// the bits one call flips in one list go to the ledger in one op (split only
// past registry.MaxStatusChanges). Unknown ids, ids of other issuers and
// credentials without a status entry of the purpose reject the whole call
// before anything changes.
func (s *Service) UpdateStatus(ctx context.Context, tenantID string, req StatusRequest) (*StatusResult, error) {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	action, ids, err := req.normalize()
	if err != nil {
		return nil, err
	}
	if s.ledger == nil {
		return nil, errors.New("status lists are not configured on this issuer service")
	}
	purpose := status.PurposeSuspension
	if action == ActionRevoke {
		purpose = status.PurposeRevocation
	}
	recs := make([]Record, len(ids))
	byList := map[string][]int{}
	var p fields
	for i, id := range ids {
		r, err := s.loadRecord(ctx, t.ID, id)
		if errors.Is(err, ErrNotFound) {
			p.add(fmt.Sprintf("/credentialIds/%d", i), fmt.Sprintf("issuer %s has not issued %s", t.ID, id))
			continue
		}
		if err != nil {
			return nil, err
		}
		recs[i] = r
		k := slices.IndexFunc(r.Status, func(ref StatusRef) bool { return ref.Purpose == purpose })
		if k < 0 {
			p.add(fmt.Sprintf("/credentialIds/%d", i), fmt.Sprintf("%s has no %s status entry", id, purpose))
			continue
		}
		byList[r.Status[k].List] = append(byList[r.Status[k].List], r.Status[k].Index)
	}
	if len(p) > 0 {
		return nil, &Rejection{Fields: p}
	}
	res := &StatusResult{Action: action, IDs: ids}
	lists := slices.Sorted(func(yield func(string) bool) {
		for l := range byList {
			if !yield(l) {
				return
			}
		}
	})
	for _, url := range lists {
		idx := byList[url]
		slices.Sort(idx)
		idx = slices.Compact(idx)
		for len(idx) > 0 {
			n := min(len(idx), registry.MaxStatusChanges)
			op, err := s.changeList(ctx, t, url, purpose, idx[:n], action != ActionReinstate)
			if err != nil {
				return res, err
			}
			res.Ops = append(res.Ops, op)
			idx = idx[n:]
		}
	}
	// The ledger has the change; record the events (with the reasons, which
	// stay off the public ledger) in the inventory.
	now := s.now().UTC().Truncate(time.Second)
	seqOf := map[string]uint64{}
	for _, op := range res.Ops {
		seqOf[op.List] = op.Seq
	}
	items := make([]kv.Item, 0, len(recs))
	for _, r := range recs {
		k := slices.IndexFunc(r.Status, func(ref StatusRef) bool { return ref.Purpose == purpose })
		r.Events = append(r.Events, StatusEvent{Time: now, Action: action, Reason: req.Reason, List: r.Status[k].List, Seq: seqOf[r.Status[k].List]})
		b, _ := json.Marshal(r)
		items = append(items, kv.Item{Key: recordKey(r.Issuer, r.ID), Value: b})
	}
	for len(items) > 0 {
		n := min(len(items), 4096)
		if err := s.kv.PutMany(ctx, bucketIssued, items[:n]); err != nil {
			return res, fmt.Errorf("the ledger has the change, but its inventory events were not saved: %w", err)
		}
		items = items[n:]
	}
	res.Updated = len(ids)
	return res, nil
}

// changeList sets (or clears) indexes of one list in one ledger op, retrying
// when another writer moved the list meanwhile, then refreshes the signed
// list credential.
func (s *Service) changeList(ctx context.Context, t Tenant, url, purpose string, idx []int, set bool) (StatusOp, error) {
	mu := s.status.listLock(url)
	mu.Lock()
	defer mu.Unlock()
	for attempt := 0; ; attempt++ {
		st, err := s.ledger.State(ctx, url, 0)
		if err != nil {
			return StatusOp{}, err
		}
		sl := st.StatusList
		if sl == nil || sl.Issuer != t.DID || sl.Purpose != purpose {
			return StatusOp{}, fmt.Errorf("the ledger's subject %s is not a %s list of %s", url, purpose, t.DID)
		}
		bits := slices.Clone(sl.Bits)
		for _, i := range idx {
			if i < 0 || i >= sl.Size {
				return StatusOp{}, fmt.Errorf("index %d is outside list %s (%d entries)", i, url, sl.Size)
			}
			if set {
				bits[i/8] |= 0x80 >> (i % 8)
			} else {
				bits[i/8] &^= 0x80 >> (i % 8)
			}
		}
		change := registry.StatusListChange{Purpose: sl.Purpose, Size: sl.Size, ListHash: registry.ListHash(bits)}
		if set {
			change.Set = idx
		} else {
			change.Clear = idx
		}
		op := registry.NewStatusListOp(registry.StatusListUpdate, url, st.Seq+1, st.Hash, s.opTime(st.Time), change)
		if err := s.opSigner.SignOp(ctx, t.DID, op); err != nil {
			return StatusOp{}, err
		}
		raw, err := json.Marshal(op)
		if err != nil {
			return StatusOp{}, err
		}
		rec, err := s.ledger.Submit(ctx, raw)
		if (errors.Is(err, registry.ErrFork) || errors.Is(err, registry.ErrConflict) || errors.Is(err, registry.ErrUnauthorizedKey)) && attempt < 4 {
			continue // another writer, or a key rotation, got in first: rebuild on the new head
		}
		if err != nil {
			return StatusOp{}, fmt.Errorf("the ledger refused the change of %s: %w", url, err)
		}
		if s.onChange != nil {
			s.onChange(url) // this process's verifier sees the change before the call returns
		}
		out := StatusOp{List: url, Seq: rec.Seq, Index: rec.Index}
		if set {
			out.Set = len(idx)
		} else {
			out.Clear = len(idx)
		}
		return out, nil
	}
}

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

package issuer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc/status"
)

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

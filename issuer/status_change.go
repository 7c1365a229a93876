package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc/status"
)

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

package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
)

// BatchChunk is how many credentials are secured in parallel and then
// recorded in one store write before their results are emitted.
const BatchChunk = 256

// BatchResult is the outcome of one item of a batch, in input order.
type BatchResult struct {
	Index  int
	Issued *Issued
	Err    error
}

// BatchSummary counts a batch's outcomes.
type BatchSummary struct {
	Total   int           `json:"total"`
	Issued  int           `json:"issued"`
	Failed  int           `json:"failed"`
	Elapsed time.Duration `json:"-"`
}

// IssueBatch issues every request next yields until it returns io.EOF. An
// error from next that wraps vc.ErrMalformed fails that item only; any other
// error stops the batch. Items are secured in parallel; each chunk's
// inventory records are stored in one write before its results are emitted,
// in input order, so whatever a client has received is recorded. A failed
// item never stops the batch; an error from emit (the client went away) does.
func (s *Service) IssueBatch(ctx context.Context, tenantID string, next func() (IssueRequest, error), emit func(BatchResult) error) (BatchSummary, error) {
	start := time.Now()
	var sum BatchSummary
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return sum, err
	}
	signer, err := s.signer(ctx, t)
	if err != nil {
		return sum, err
	}
	for done := false; !done; {
		chunk := make([]BatchResult, 0, BatchChunk)
		reqs := make([]IssueRequest, 0, BatchChunk)
		for len(chunk) < BatchChunk {
			req, err := next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil && !errors.Is(err, vc.ErrMalformed) {
				return sum, err
			}
			chunk = append(chunk, BatchResult{Index: sum.Total, Err: err})
			reqs = append(reqs, req)
			sum.Total++
		}
		s.secureChunk(ctx, t, signer, chunk, reqs)
		if err := s.recordChunk(ctx, chunk); err != nil {
			return sum, err
		}
		if err := s.supersedeChunk(ctx, t, chunk, reqs); err != nil {
			return sum, err
		}
		for _, r := range chunk {
			if r.Err != nil {
				sum.Failed++
			} else {
				sum.Issued++
			}
			if err := emit(r); err != nil {
				return sum, err
			}
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func (s *Service) secureChunk(ctx context.Context, t Tenant, signer vc.Signer, chunk []BatchResult, reqs []IssueRequest) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				if chunk[i].Err == nil {
					chunk[i].Err = s.checkSupersedes(ctx, t, reqs[i].Options.Supersedes)
				}
				if chunk[i].Err == nil {
					chunk[i].Issued, chunk[i].Err = s.issue(ctx, t, signer, reqs[i])
				}
			}
		})
	}
	for i := range chunk {
		work <- i
	}
	close(work)
	wg.Wait()
}

// recordChunk stores the chunk's records in one write. A credential id that
// is already in the inventory, or repeated within the chunk, fails its item.
func (s *Service) recordChunk(ctx context.Context, chunk []BatchResult) error {
	items := make([]kv.Item, 0, len(chunk))
	seen := make(map[string]bool, len(chunk))
	for i := range chunk {
		r := &chunk[i]
		if r.Err != nil {
			continue
		}
		key := recordKey(r.Issued.Record.Issuer, r.Issued.Record.ID)
		_, err := s.kv.Get(ctx, bucketIssued, key)
		switch {
		case err == nil || seen[key]:
			r.Err, r.Issued = fmt.Errorf("%w: credential %s was already issued", ErrExists, r.Issued.Record.ID), nil
			continue
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
		seen[key] = true
		b, _ := json.Marshal(r.Issued.Record)
		items = append(items, kv.Item{Key: key, Value: b})
	}
	if len(items) == 0 {
		return nil
	}
	return s.kv.PutMany(ctx, bucketIssued, items)
}

// supersedeChunk revokes, in one status change, the credentials that the
// chunk's issued renewals supersede.
func (s *Service) supersedeChunk(ctx context.Context, t Tenant, chunk []BatchResult, reqs []IssueRequest) error {
	var old []string
	seen := map[string]bool{}
	for i, r := range chunk {
		if o := reqs[i].Options.Supersedes; r.Err == nil && o != "" && !seen[o] {
			old = append(old, o)
			seen[o] = true
		}
	}
	if len(old) == 0 {
		return nil
	}
	res, err := s.UpdateStatus(ctx, t.ID, StatusRequest{CredentialIDs: old, Action: ActionRevoke, Reason: "superseded by a renewal"})
	if err != nil {
		return fmt.Errorf("renewals issued, but revoking the credentials they supersede failed: %w", err)
	}
	for i := range chunk {
		if chunk[i].Err == nil && reqs[i].Options.Supersedes != "" {
			chunk[i].Issued.Superseded = &StatusResult{Action: res.Action, Updated: 1, IDs: []string{reqs[i].Options.Supersedes}, Ops: res.Ops}
		}
	}
	return nil
}

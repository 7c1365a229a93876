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

// MaxChunkBytes bounds the encoded size of a chunk's requests: a chunk ends
// before BatchChunk requests when the next one would take it past this. A
// decoded request takes several times its encoded size (up to about 16
// times for a flood of small numbers), so this, not BatchChunk, bounds the
// memory a batch holds; license requests (about 2 KB) never reach it.
const MaxChunkBytes = 4 << 20

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

// IssueBatch issues every request next yields until it returns io.EOF; next
// also gives the request's encoded size in bytes, which bounds a chunk to
// MaxChunkBytes. An error from next that wraps vc.ErrMalformed fails that
// item only; any other error stops the batch. Items are secured in
// parallel; each chunk's inventory records are created in one write before
// its results are emitted, in input order, so whatever a client has received
// is recorded, and no credential id is issued twice (see recordChunk). A
// failed item never stops the batch; an error from emit (the client went
// away) does.
func (s *Service) IssueBatch(ctx context.Context, tenantID string, next func() (req IssueRequest, size int, err error), emit func(BatchResult) error) (BatchSummary, error) {
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
	in := &batchInput{next: next}
	for {
		chunk, reqs, err := in.chunk(sum.Total)
		if err != nil {
			return sum, err
		}
		if len(chunk) == 0 {
			sum.Elapsed = time.Since(start)
			return sum, nil
		}
		sum.Total += len(chunk)
		if err := s.issueChunk(ctx, t, signer, chunk, reqs); err != nil {
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
}

// issueChunk secures and records a chunk, and revokes what its renewals
// supersede.
func (s *Service) issueChunk(ctx context.Context, t Tenant, signer vc.Signer, chunk []BatchResult, reqs []IssueRequest) error {
	s.secureChunk(ctx, t, signer, chunk, reqs)
	if err := s.recordChunk(ctx, chunk); err != nil {
		return err
	}
	return s.supersedeChunk(ctx, t, chunk, reqs)
}

// batchInput reads a batch chunk by chunk.
type batchInput struct {
	next func() (IssueRequest, int, error)
	held *batchItem // read, but over the previous chunk's byte budget
	done bool
}

type batchItem struct {
	req  IssueRequest
	size int
	err  error // wraps vc.ErrMalformed
}

// chunk reads up to BatchChunk requests of at most MaxChunkBytes together
// (at least one), numbered from first; none at the end of the batch.
func (in *batchInput) chunk(first int) ([]BatchResult, []IssueRequest, error) {
	chunk := make([]BatchResult, 0, BatchChunk)
	reqs := make([]IssueRequest, 0, BatchChunk)
	size := 0
	for len(chunk) < BatchChunk {
		it, err := in.read()
		if err != nil {
			return nil, nil, err
		}
		if it == nil {
			break
		}
		if len(chunk) > 0 && size+it.size > MaxChunkBytes {
			in.held = it
			break
		}
		size += it.size
		chunk = append(chunk, BatchResult{Index: first + len(chunk), Err: it.err})
		reqs = append(reqs, it.req)
	}
	return chunk, reqs, nil
}

// read returns the next item, or nil at the end of the batch.
func (in *batchInput) read() (*batchItem, error) {
	if it := in.held; it != nil {
		in.held = nil
		return it, nil
	}
	if in.done {
		return nil, nil
	}
	req, size, err := in.next()
	switch {
	case errors.Is(err, io.EOF):
		in.done = true
		return nil, nil
	case err != nil && !errors.Is(err, vc.ErrMalformed):
		return nil, err
	}
	return &batchItem{req: req, size: size, err: err}, nil
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

// recordChunk creates the chunk's records in one write (kv.CreateMany), so
// that a credential id is issued once even when a single issue or another
// batch takes it between this chunk's checks and its write. When CreateMany
// finds an id taken, the records are created one by one instead and only the
// items whose id is taken fail. An item whose id is already in the inventory
// or repeated within the chunk fails with ErrExists, as a single issue would;
// an item whose record is not created is never emitted as issued. As with
// any failed issue, the status indexes a failed item was given stay
// allocated and unused: its signed credential is discarded, so no one holds
// a credential that points at them.
func (s *Service) recordChunk(ctx context.Context, chunk []BatchResult) error {
	items := make([]kv.Item, 0, len(chunk))
	at := make([]int, 0, len(chunk)) // the chunk index of each item
	seen := make(map[string]bool, len(chunk))
	for i := range chunk {
		r := &chunk[i]
		if r.Err != nil {
			continue
		}
		key := recordKey(r.Issued.Record.Issuer, r.Issued.Record.ID)
		// The Get spares a retried batch whose ids are recorded a Create
		// per item; CreateMany is what makes the write safe.
		_, err := s.kv.Get(ctx, bucketIssued, key)
		switch {
		case err == nil || seen[key]:
			r.Err, r.Issued = alreadyIssued(r.Issued.Record.ID), nil
			continue
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
		seen[key] = true
		b, _ := json.Marshal(r.Issued.Record)
		items = append(items, kv.Item{Key: key, Value: b})
		at = append(at, i)
	}
	if len(items) == 0 {
		return nil
	}
	err := s.kv.CreateMany(ctx, bucketIssued, items)
	if !errors.Is(err, kv.ErrExists) {
		return err
	}
	s.recordEach(ctx, chunk, items, at)
	return nil
}

// recordEach creates the records of items one by one: an item whose record
// is not created fails, with ErrExists when its id is taken.
func (s *Service) recordEach(ctx context.Context, chunk []BatchResult, items []kv.Item, at []int) {
	for j, it := range items {
		r := &chunk[at[j]]
		switch err := s.kv.Create(ctx, bucketIssued, it.Key, it.Value); {
		case errors.Is(err, kv.ErrExists):
			r.Err, r.Issued = alreadyIssued(r.Issued.Record.ID), nil
		case err != nil:
			r.Err, r.Issued = fmt.Errorf("failed to record credential %s: %w", r.Issued.Record.ID, err), nil
		}
	}
}

func alreadyIssued(id string) error {
	return fmt.Errorf("%w: credential %s was already issued", ErrExists, id)
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

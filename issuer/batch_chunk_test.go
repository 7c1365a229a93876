package issuer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare/synth"
)

// chunkSizes runs a batch whose requests have the given encoded sizes and
// returns how many results each chunk emitted. A chunk's results are emitted
// together, after it was read and before the next chunk is: the results of
// one chunk are those emitted after the same number of calls of next. req
// makes the request of item i (nil: a malformed item, which costs no
// signing).
func chunkSizes(t *testing.T, svc *Service, tenant string, sizes []int, req func(i int) *IssueRequest) ([]int, []BatchResult) {
	t.Helper()
	calls := 0
	next := func() (IssueRequest, int, error) {
		i := calls
		calls++
		switch {
		case i == len(sizes):
			return IssueRequest{}, 0, io.EOF
		case i > len(sizes):
			t.Fatalf("next called %d times after io.EOF", i-len(sizes))
		}
		if r := req(i); r != nil {
			return *r, sizes[i], nil
		}
		return IssueRequest{}, sizes[i], fmt.Errorf("%w: item %d", vc.ErrMalformed, i)
	}
	var chunks []int
	var got []BatchResult
	last := -1
	sum, err := svc.IssueBatch(context.Background(), tenant, next, func(r BatchResult) error {
		if r.Index != len(got) {
			t.Fatalf("result %d has index %d", len(got), r.Index)
		}
		if calls != last {
			chunks = append(chunks, 0)
			last = calls
		}
		chunks[len(chunks)-1]++
		got = append(got, r)
		return nil
	})
	if err != nil || sum.Total != len(sizes) || len(got) != len(sizes) {
		t.Fatalf("summary %+v, %d results: %v", sum, len(got), err)
	}
	return chunks, got
}

// TestBatchChunkBytes: a chunk ends early when the next request would take
// it past MaxChunkBytes, and holds at least one request however large.
func TestBatchChunkBytes(t *testing.T) {
	const m = MaxChunkBytes
	for _, c := range []struct {
		name  string
		sizes []int
		want  []int
	}{
		{"unknown sizes", slices.Repeat([]int{0}, BatchChunk+44), []int{BatchChunk, 44}},
		{"a full chunk exactly", slices.Repeat([]int{m / BatchChunk}, BatchChunk+1), []int{BatchChunk, 1}},
		{"halves", []int{m / 2, m / 2, m / 2}, []int{2, 1}},
		{"over a quarter", slices.Repeat([]int{m/4 + 1}, 10), []int{3, 3, 3, 1}},
		{"one over the budget", []int{m + 1, 1, 1}, []int{1, 2}},
		{"one filling the budget", []int{1, m, 1}, []int{1, 1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			tn := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
			got, _ := chunkSizes(t, e.svc, tn.ID, c.sizes, func(int) *IssueRequest { return nil })
			if !slices.Equal(got, c.want) {
				t.Errorf("chunks %v, want %v", got, c.want)
			}
		})
	}
}

// TestBatchChunkBytesIssues issues a batch split by bytes: every credential
// is issued and recorded, and a duplicate id in a later chunk fails.
func TestBatchChunkBytesIssues(t *testing.T) {
	e := newEnv(t)
	g := synth.New(2, synth.WithNow(e.now))
	tn := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
	const id = "urn:uuid:11111111-1111-4111-8111-222222222222"
	req := func(i int) *IssueRequest {
		p := g.Provider()
		for p.License("TX").Expired(e.now) {
			p = g.Provider()
		}
		r := IssueRequest{Credential: credential("MedicalLicenseCredential", p.LicenseSubject("TX")), Options: IssueOptions{Format: "jwt"}}
		if i == 1 || i == 4 {
			r.Options.CredentialID = id
		}
		return &r
	}
	chunks, got := chunkSizes(t, e.svc, tn.ID, slices.Repeat([]int{MaxChunkBytes / 2}, 5), req)
	if want := []int{2, 2, 1}; !slices.Equal(chunks, want) {
		t.Errorf("chunks %v, want %v", chunks, want)
	}
	for i, r := range got {
		if i == 4 {
			if !errors.Is(r.Err, ErrExists) {
				t.Errorf("the id issued in an earlier chunk: %v", r.Err)
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		if rec, err := e.svc.Record(context.Background(), tn.ID, r.Issued.Record.ID); err != nil || rec.Digest != r.Issued.Record.Digest {
			t.Errorf("item %d: record %+v %v", i, rec, err)
		}
	}
}

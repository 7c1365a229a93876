package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
)

func testUpdateMissing(t *testing.T, s kv.Store) {
	calls := 0
	err := s.Update(t.Context(), bucket, "k", func(old []byte) ([]byte, error) {
		calls++
		if old != nil {
			t.Errorf("Update on missing key: old = %s, want nil", show(old))
		}
		return []byte("created"), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls == 0 {
		t.Fatal("Update did not call fn")
	}
	wantValue(t, s, bucket, "k", []byte("created"))
}

func testUpdateExisting(t *testing.T, s kv.Store) {
	ctx := t.Context()
	mustPut(t, s, bucket, "k", []byte{0x00, 'a', 0xff})
	err := s.Update(ctx, bucket, "k", func(old []byte) ([]byte, error) {
		if !bytes.Equal(old, []byte{0x00, 'a', 0xff}) {
			t.Errorf("Update: old = %s", show(old))
		}
		return append(old, 'b'), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte{0x00, 'a', 0xff, 'b'})

	err = s.Update(ctx, bucket, "k", func([]byte) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatalf("Update to nil: %v", err)
	}
	wantValue(t, s, bucket, "k", nil) // nil stores an empty value, the key stays.
}

func testUpdateEmptyValue(t *testing.T, s kv.Store) {
	mustPut(t, s, bucket, "k", nil)
	err := s.Update(t.Context(), bucket, "k", func(old []byte) ([]byte, error) {
		if old == nil || len(old) != 0 {
			t.Errorf("Update on present empty value: old = %s, want non-nil empty", show(old))
		}
		return []byte("filled"), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte("filled"))
}

func testUpdateFnError(t *testing.T, s kv.Store) {
	ctx := t.Context()
	errFn := errors.New("fn refused")
	fail := func([]byte) ([]byte, error) { return []byte("written anyway"), errFn }

	if err := s.Update(ctx, bucket, "missing", fail); !errors.Is(err, errFn) {
		t.Fatalf("Update on missing key = %v, want fn's error", err)
	}
	wantMissing(t, s, bucket, "missing")
	if got := list(t, s, bucket, ""); len(got) != 0 {
		t.Fatalf("failed Update left keys %q", keysOf(got))
	}

	mustPut(t, s, bucket, "k", []byte("keep"))
	if err := s.Update(ctx, bucket, "k", fail); !errors.Is(err, errFn) {
		t.Fatalf("Update on existing key = %v, want fn's error", err)
	}
	wantValue(t, s, bucket, "k", []byte("keep"))
}

const (
	workers    = 16
	increments = 50
)

func testConcurrentUpdate(t *testing.T, s kv.Store) {
	ctx := t.Context()
	incr := func(old []byte) ([]byte, error) {
		n := 0
		if old != nil {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, fmt.Errorf("failed to parse counter %q: %w", old, err)
			}
		}
		return strconv.AppendInt(nil, int64(n+1), 10), nil
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				if err := s.Update(ctx, bucket, "counter", incr); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	wantValue(t, s, bucket, "counter", []byte(strconv.Itoa(workers*increments)))
}

func testConcurrentCreate(t *testing.T, s kv.Store) {
	ctx := t.Context()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range workers {
		wg.Go(func() {
			err := s.Create(ctx, bucket, "k", []byte(strconv.Itoa(i)))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, kv.ErrExists):
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d concurrent Creates succeeded (%v), want exactly 1", len(winners), winners)
	}
	wantValue(t, s, bucket, "k", []byte(strconv.Itoa(winners[0])))
}

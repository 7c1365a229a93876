package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(b) != `{"x":1}` || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		time.Sleep(time.Millisecond)
		w.Write([]byte(`{"verified":true}`))
	}))
	defer ts.Close()
	res, err := Run(context.Background(), Config{URL: ts.URL, Body: []byte(`{"x":1}`), Concurrency: 4, Requests: 200, Warmup: 5})
	if err != nil {
		t.Fatal(err)
	}
	// 205 requests in all; every tenth answered 422.
	if got := res.Requests + res.Errors; got != 200 || n.Load() != 205 {
		t.Fatalf("requests %d + errors %d, server saw %d", res.Requests, res.Errors, n.Load())
	}
	if res.Statuses[200] != res.Requests || res.Statuses[422] != res.Errors || res.Errors < 19 || res.Errors > 21 || res.FirstError != "HTTP 422" {
		t.Errorf("statuses %v, errors %d (%s)", res.Statuses, res.Errors, res.FirstError)
	}
	if res.P50 < time.Millisecond || res.P50 > res.P99 || res.P99 > res.Max || res.PerSecond <= 0 {
		t.Errorf("latencies p50 %v p99 %v max %v, %f/s", res.P50, res.P99, res.Max, res.PerSecond)
	}

	res, err = Run(context.Background(), Config{URL: ts.URL, Body: []byte(`{"x":1}`), Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil || res.Requests == 0 || res.Elapsed < 100*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("a 100ms run: %+v, %v", res, err)
	}
	if _, err := Run(context.Background(), Config{URL: ts.URL}); err == nil {
		t.Error("a run without an end ran")
	}
	if _, err := Run(context.Background(), Config{URL: "http://127.0.0.1:1", Requests: 1, Warmup: 1}); err == nil {
		t.Error("a warmup against nothing succeeded")
	}
}

// Package loadgen is a small closed-loop HTTP load generator: a fixed number
// of keep-alive clients each send one request, wait for the answer and send
// the next, until a request count or a duration is reached. It is what
// `credence bench verify` runs, in its own process, so that the server's
// CPU is not shared with the client's in what the server measures.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run.
type Config struct {
	URL    string
	Method string // POST when empty
	Body   []byte
	Header http.Header
	// Concurrency is the number of clients (connections); 32 when zero.
	Concurrency int
	// Requests stops the run after that many requests; Duration after that
	// long. At least one must be set.
	Requests int
	Duration time.Duration
	// Warmup requests are sent first and not counted.
	Warmup int
	// OK reports whether a status counts as a success; 2xx when nil.
	OK func(status int) bool
}

// Result is what a run measured. Latencies are of successful requests.
type Result struct {
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	Elapsed    time.Duration `json:"elapsedNs"`
	PerSecond  float64       `json:"perSecond"`
	P50        time.Duration `json:"p50Ns"`
	P90        time.Duration `json:"p90Ns"`
	P99        time.Duration `json:"p99Ns"`
	Max        time.Duration `json:"maxNs"`
	Statuses   map[int]int   `json:"statuses"`
	FirstError string        `json:"firstError,omitempty"`
}

// Run sends the load and measures it.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.URL == "" || (c.Requests <= 0 && c.Duration <= 0) {
		return nil, errors.New("loadgen: a URL and a request count or a duration are required")
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Method == "" {
		c.Method = http.MethodPost
	}
	if c.OK == nil {
		c.OK = func(s int) bool { return s >= 200 && s < 300 }
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency, MaxConnsPerHost: c.Concurrency,
		DisableCompression: true}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	for i := 0; i < c.Warmup; i++ {
		if _, _, err := send(ctx, client, c); err != nil {
			return nil, fmt.Errorf("loadgen: warmup: %w", err)
		}
	}
	var (
		issued atomic.Int64
		mu     sync.Mutex
		res    = &Result{Statuses: map[int]int{}}
		lat    = make([]time.Duration, 0, max(c.Requests, 1024))
		wg     sync.WaitGroup
	)
	if c.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	start := time.Now()
	for range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1024)
			statuses := map[int]int{}
			errs, firstErr := 0, ""
			for ctx.Err() == nil && (c.Requests <= 0 || issued.Add(1) <= int64(c.Requests)) {
				t0 := time.Now()
				status, _, err := send(ctx, client, c)
				d := time.Since(t0)
				switch {
				case err != nil && ctx.Err() != nil: // the run's end cut it off
				case err != nil:
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
				default:
					statuses[status]++
					if c.OK(status) {
						mine = append(mine, d)
					} else {
						errs++
						if firstErr == "" {
							firstErr = fmt.Sprintf("HTTP %d", status)
						}
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			res.Errors += errs
			for s, n := range statuses {
				res.Statuses[s] += n
			}
			if res.FirstError == "" {
				res.FirstError = firstErr
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(lat)
	if res.Elapsed > 0 {
		res.PerSecond = float64(res.Requests) / res.Elapsed.Seconds()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		res.P50, res.P90, res.P99, res.Max = q(0.50), q(0.90), q(0.99), lat[len(lat)-1]
	}
	return res, nil
}

func send(ctx context.Context, client *http.Client, c Config) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return 0, 0, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" && len(c.Body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, n, err
}

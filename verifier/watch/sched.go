package watch

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// What one process attempts at a time: at most one delivery per verifier
// tenant and one per webhook host, so a tenant's slow or dead endpoint holds
// at most one worker.
const (
	perTenant = 1
	perHost   = 1
)

// candidate is a due delivery the last queue scan found.
type candidate struct {
	key, tenant, host string
	due               time.Time
}

// sched is this process's delivery scheduler: the due deliveries of the last
// queue scan by tenant, the attempts in flight, and the tenant served last.
// Tenants take turns in the byte order of their ids, starting after the one
// served last; a tenant's own deliveries go oldest due first.
type sched struct {
	mu      sync.Mutex
	due     map[string][]candidate // by tenant
	last    string
	keys    map[string]bool // in flight
	tenants map[string]int
	hosts   map[string]int
	wg      sync.WaitGroup
}

// load replaces the due deliveries with a fresh scan's.
func (q *sched) load(cs []candidate) {
	due := map[string][]candidate{}
	for _, c := range cs {
		due[c.tenant] = append(due[c.tenant], c)
	}
	for _, list := range due {
		slices.SortFunc(list, func(a, b candidate) int {
			if c := a.due.Compare(b.due); c != 0 {
				return c
			}
			return strings.Compare(a.key, b.key)
		})
	}
	q.mu.Lock()
	q.due = due
	q.mu.Unlock()
}

// next takes the next delivery to attempt while fewer than workers are in
// flight: the first tenant in turn with nothing in flight and a delivery
// whose host is free and allowed. The delivery is in flight until done.
func (q *sched) next(workers int, allow func(host string) bool) (candidate, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.keys) >= workers {
		return candidate{}, false
	}
	tenants := make([]string, 0, len(q.due))
	for t := range q.due {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	start, _ := slices.BinarySearch(tenants, q.last+"\x00") // the first after last
	for i := range tenants {
		t := tenants[(start+i)%len(tenants)]
		if q.tenants[t] >= perTenant {
			continue
		}
		if c, ok := q.take(t, allow); ok {
			return c, true
		}
	}
	return candidate{}, false
}

// take moves tenant t's first attemptable delivery in flight.
func (q *sched) take(t string, allow func(string) bool) (candidate, bool) {
	list := q.due[t]
	for i, c := range list {
		if q.keys[c.key] || q.hosts[c.host] >= perHost || !allow(c.host) {
			continue
		}
		if q.due[t] = slices.Delete(list, i, i+1); len(q.due[t]) == 0 {
			delete(q.due, t)
		}
		if q.keys == nil {
			q.keys, q.tenants, q.hosts = map[string]bool{}, map[string]int{}, map[string]int{}
		}
		q.keys[c.key] = true
		q.tenants[c.tenant]++
		q.hosts[c.host]++
		q.last = t
		q.wg.Add(1)
		return c, true
	}
	return candidate{}, false
}

// done ends an attempt next started.
func (q *sched) done(c candidate) {
	q.mu.Lock()
	delete(q.keys, c.key)
	if q.tenants[c.tenant]--; q.tenants[c.tenant] <= 0 {
		delete(q.tenants, c.tenant)
	}
	if q.hosts[c.host]--; q.hosts[c.host] <= 0 {
		delete(q.hosts, c.host)
	}
	q.mu.Unlock()
	q.wg.Done()
}

// hostOf is the host a webhook is sent to, with its port when it has one:
// the key of the per-host limit and circuit breaker.
func hostOf(webhook string) string {
	u, err := url.Parse(webhook)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

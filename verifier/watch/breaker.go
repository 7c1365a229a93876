package watch

import (
	"sync"
	"time"
)

// The per-host circuit breaker.
const (
	// BreakerFailures is how many consecutive host faults (timeouts,
	// connection errors, 5xx) hold a webhook host.
	BreakerFailures = 5
	// BreakerCooldown is the first hold; each failed probe after a hold
	// doubles it, up to BreakerMaxCooldown.
	BreakerCooldown    = 30 * time.Second
	BreakerMaxCooldown = 30 * time.Minute
	// breakerMaxHosts bounds the hosts remembered; hosts not held are
	// forgotten first.
	breakerMaxHosts = 10000
)

// breaker holds the deliveries to a webhook host that keeps failing, in this
// process. A held delivery is not claimed: it stays queued, due, with its
// attempts unchanged. After the cool-down one attempt (the per-host limit)
// probes the host: an answer below 500 closes the breaker, a fault holds
// the host again for twice as long.
type breaker struct {
	mu    sync.Mutex
	hosts map[string]*hostHealth
}

type hostHealth struct {
	faults   int           // consecutive
	cooldown time.Duration // of the last hold
	until    time.Time     // held until
}

// allow reports whether host may be attempted at now.
func (b *breaker) allow(host string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.hosts[host]
	return h == nil || !now.Before(h.until)
}

// record notes the outcome of an attempt to host; it returns the hold when
// the attempt made the breaker hold the host, else 0.
func (b *breaker) record(host string, fault bool, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !fault {
		delete(b.hosts, host)
		return 0
	}
	h := b.hosts[host]
	if h == nil {
		b.prune(now)
		h = &hostHealth{}
		if b.hosts == nil {
			b.hosts = map[string]*hostHealth{}
		}
		b.hosts[host] = h
	}
	if h.faults++; h.faults < BreakerFailures {
		return 0
	}
	h.cooldown = min(max(2*h.cooldown, BreakerCooldown), BreakerMaxCooldown)
	h.until = now.Add(h.cooldown)
	return h.cooldown
}

// prune forgets the hosts not held when too many are remembered.
func (b *breaker) prune(now time.Time) {
	if len(b.hosts) < breakerMaxHosts {
		return
	}
	for host, h := range b.hosts {
		if !now.Before(h.until) {
			delete(b.hosts, host)
		}
	}
}

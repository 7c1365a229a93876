package witness

import (
	"context"
	"time"
)

// maxRaces bounds the rounds Run starts at once, without waiting, because
// the log grew during the previous one.
const maxRaces = 3

// Run publishes until ctx ends: a round at once, then one after every receive
// from wake (several wake-ups during a round cause one more round), every
// interval (WithInterval), and after a round with failures, again after the
// backoff (WithBackoff), doubling while rounds keep failing. A round in which
// the log outgrew a witness's answer is followed at once by another. wake may
// be nil, and closing it ends the wake-ups only; Run keeps receiving from it
// during rounds, so senders do not block for long. Run returns after its last
// round ends.
func (p *Publisher) Run(ctx context.Context, wake <-chan struct{}) {
	backoff, races := p.backoffMin, 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				wake = nil
				continue
			}
		case <-timer.C:
		}
		woken, again, failed := p.runRound(ctx, &wake)
		if ctx.Err() != nil {
			return
		}
		delay := p.interval
		if failed {
			delay, backoff = backoff, min(2*backoff, p.backoffMax)
		} else {
			backoff = p.backoffMin
		}
		if !again {
			races = 0
		} else if races < maxRaces {
			races, delay = races+1, 0
		}
		if woken {
			delay = 0
		}
		timer.Reset(delay)
	}
}

// runRound runs one round while receiving from *wake (set to nil if closed):
// woken is whether a wake-up came meanwhile, again whether the log outgrew a
// witness's answer, failed whether a target or the round failed.
func (p *Publisher) runRound(ctx context.Context, wake *<-chan struct{}) (woken, again, failed bool) {
	type result struct {
		again, failed bool
	}
	done := make(chan result, 1)
	go func() {
		r, again, err := p.round(ctx)
		if err != nil {
			p.log.WarnContext(ctx, "witness: publishing round failed", "error", err)
		}
		done <- result{again, err != nil || len(r.Failed) > 0}
	}()
	for {
		select {
		case _, ok := <-*wake:
			if !ok {
				*wake = nil
				continue
			}
			woken = true
		case res := <-done:
			return woken, res.again, res.failed
		}
	}
}

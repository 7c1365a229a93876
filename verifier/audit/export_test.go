package audit

import "time"

// Queued is how many appends to chain wait for a batch (not yet taken by
// the committer, not given up).
func Queued(l *Log, chain string) int {
	st := l.state(chain)
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, p := range st.queue {
		if !p.abandoned {
			n++
		}
	}
	return n
}

// MinSize is the size e's stored form has at least (Append refuses e when
// it is more than MaxEntryBytes).
func MinSize(e Entry) int {
	e.normalize()
	f, err := newForm(e)
	if err != nil {
		panic(err)
	}
	return f.minSize()
}

// SetSleep replaces how l's committers wait out the commit delay.
func SetSleep(l *Log, sleep func(time.Duration)) { l.sleep = sleep }

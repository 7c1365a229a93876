package server

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC the collector runs at GCPercent; with it, the
// runtime's own reading of the variable stands.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	if got := TuneGC(func(string) string { return "" }); got != "400" {
		t.Errorf("TuneGC without GOGC = %q, want 400", got)
	}
	if p := debug.SetGCPercent(100); p != GCPercent {
		t.Errorf("GC percent after TuneGC = %d, want %d", p, GCPercent)
	}
	env := map[string]string{"GOGC": "150"}
	if got := TuneGC(func(k string) string { return env[k] }); got != "150" {
		t.Errorf("TuneGC with GOGC=150 = %q", got)
	}
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("TuneGC changed the GC percent to %d although GOGC is set", p)
	}
}

package server

import (
	"runtime/debug"
	"strconv"
)

// GCPercent is the garbage collector's target (GOGC) that `credence serve`
// runs with when the GOGC environment variable is not set. The service's
// live heap is small (about 4 MB while verifying at full load), so Go's
// default of 100 collects every hundred or so verifications; at 400 it
// collects a quarter as often, for about a tenth less CPU per verification
// over HTTP (BenchmarkVerifyThroughput, which runs with it), and the heap
// then peaks near 33 MB. Set GOGC to choose another target, and GOMEMLIMIT
// where memory is tight.
const GCPercent = 400

// TuneGC sets GCPercent unless getenv("GOGC") is set, and returns the GOGC
// in effect (GCPercent, or the variable's value).
func TuneGC(getenv func(string) string) string {
	if v := getenv("GOGC"); v != "" {
		return v
	}
	debug.SetGCPercent(GCPercent)
	return strconv.Itoa(GCPercent)
}

package httpx

import (
	"mime"
	"strconv"
	"strings"
)

// AcceptQ is the quality an Accept header gives mediaType, from its most
// specific matching range (RFC 9110 §12.5.1), and that range's specificity:
// 3 (or what exact says) the type itself, 2 "type/*", 1 "*/*", 0 none
// (q 0). exact, when not nil, decides about a range naming the type itself
// from its parameters: the specificity to give it, or false when the range
// does not match (a different version of the type, say). Ranges that do
// not parse, and q values outside [0, 1], are ignored.
func AcceptQ(accept, mediaType string, exact func(params map[string]string) (int, bool)) (q float64, spec int) {
	major, _, _ := strings.Cut(mediaType, "/")
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		s := 0
		switch {
		case mt == mediaType && exact != nil:
			var ok bool
			if s, ok = exact(params); !ok {
				continue
			}
		case mt == mediaType:
			s = 3
		case mt == major+"/*":
			s = 2
		case mt == "*/*":
			s = 1
		default:
			continue
		}
		v := 1.0
		if qs, ok := params["q"]; ok {
			if v, err = strconv.ParseFloat(qs, 64); err != nil || v < 0 || v > 1 {
				continue
			}
		}
		if s > spec || s == spec && v > q {
			q, spec = v, s
		}
	}
	return q, spec
}

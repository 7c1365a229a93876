package issuerapi

import "testing"

func TestStatusListMediaType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                       MediaVC,
		"*/*":                                    MediaVC,
		"application/*":                          MediaVC,
		"text/html":                              MediaVC, // nothing acceptable: Accept disregarded
		"application/vc":                         MediaVC,
		"application/vc, application/json;q=0.5": MediaVC,
		// the W3C Bitstring Status List suite's document loader (@digitalbazaar/http-client)
		"application/ld+json, application/json":             "application/ld+json",
		"application/json":                                  "application/json",
		"application/json, */*;q=0.1":                       "application/json",
		"application/ld+json;q=0.5, application/json":       "application/json",
		"application/vc;q=0, application/*":                 "application/ld+json",
		"application/ld+json;q=bad, application/json;q=0.2": "application/json",
	} {
		if got := statusListMediaType(accept); got != want {
			t.Errorf("Accept %q: %s, want %s", accept, got, want)
		}
	}
}

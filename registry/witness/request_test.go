package witness

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestParseSpecExample parses the tlog-witness example request body.
func TestParseSpecExample(t *testing.T) {
	b, err := os.ReadFile("testdata/add-checkpoint-request.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseAddCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.OldSize != 20852014 || len(r.Proof) != 4 {
		t.Fatalf("old %d with %d proof hashes, want 20852014 and 4", r.OldSize, len(r.Proof))
	}
	if h, _ := tlog.ParseHash("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="); r.Proof[0] != h {
		t.Fatalf("first proof hash %v", r.Proof[0])
	}
	if !bytes.HasPrefix(r.Checkpoint, []byte("example.com/behind-the-sofa\n20852163\n")) || !bytes.HasSuffix(r.Checkpoint, []byte("qbSzm9Q=\n")) {
		t.Fatalf("checkpoint %q", r.Checkpoint)
	}
	if !bytes.Equal(r.Marshal(), b) {
		t.Fatal("Marshal does not reproduce the body")
	}
}

func TestParseAddCheckpoint(t *testing.T) {
	const h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
	const cp = "example.com/log\n1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n— example.com/log AAAA\n"
	good := []struct {
		name, body string
		old        uint64
		proof      int
	}{
		{"old 0", "old 0\n\n" + cp, 0, 0},
		{"with proof", "old 5\n" + h + h + "\n" + cp, 5, 2},
		{"max uint64", "old 18446744073709551615\n\n" + cp, 1<<64 - 1, 0},
		{"63 lines", "old 1\n" + strings.Repeat(h, 63) + "\n" + cp, 1, 63},
	}
	for _, tt := range good {
		r, err := ParseAddCheckpoint([]byte(tt.body))
		if err != nil || r.OldSize != tt.old || len(r.Proof) != tt.proof || string(r.Checkpoint) != cp {
			t.Errorf("%s: got %d, %d hashes, %v", tt.name, r.OldSize, len(r.Proof), err)
		}
	}
	bad := map[string]string{
		"empty":                 "",
		"no newline":            "old 0",
		"leading zero":          "old 01\n\n" + cp,
		"sign":                  "old +1\n\n" + cp,
		"negative":              "old -1\n\n" + cp,
		"overflow":              "old 18446744073709551616\n\n" + cp,
		"two spaces":            "old  1\n\n" + cp,
		"capital":               "Old 1\n\n" + cp,
		"no size":               "old \n\n" + cp,
		"trailing space":        "old 1 \n\n" + cp,
		"CRLF":                  "old 1\r\n\r\n" + cp,
		"bad base64":            "old 1\n!!!!NCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n" + cp,
		"non-canonical base64":  "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\n" + cp,
		"unpadded":              "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\n" + cp,
		"short hash":            "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDp\n\n" + cp,
		"CR in hash":            "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka\rw=\n\n" + cp,
		"64 lines":              "old 1\n" + strings.Repeat(h, 64) + "\n" + cp,
		"no empty line":         "old 1\n" + h,
		"no checkpoint":         "old 1\n" + h + "\n",
		"checkpoint first":      cp,
		"proof line not base64": "old 1\nexample.com/log\n\n" + cp,
	}
	for name, body := range bad {
		if _, err := ParseAddCheckpoint([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzParseAddCheckpoint: a body is rejected with ErrMalformed or parses into
// a request that marshals back to it byte for byte.
func FuzzParseAddCheckpoint(f *testing.F) {
	spec, err := os.ReadFile("testdata/add-checkpoint-request.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(spec)
	f.Add([]byte("old 0\n\nexample.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— example.com/log AAAA\n"))
	f.Add([]byte("old 18446744073709551615\n\nx"))
	f.Add([]byte("old 01\n\n"))
	f.Add([]byte("old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\nx"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAddCheckpoint(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(r.Proof) > MaxProofHashes || len(r.Checkpoint) == 0 {
			t.Fatalf("accepted %d proof hashes and a %d-byte checkpoint", len(r.Proof), len(r.Checkpoint))
		}
		if got := r.Marshal(); !bytes.Equal(got, body) {
			t.Fatalf("round trip:\n got %q\nwant %q", got, body)
		}
	})
}

package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// MaxProofHashes is the most consistency proof lines a request may carry
// (tlog-witness: "The client MUST NOT send more than 63").
const MaxProofHashes = 63

// MaxRequestSize bounds an add-checkpoint body. It leaves room for the old
// size line, 63 proof lines (45 bytes each) and a checkpoint with long
// extension lines and the 16 signatures signed-note requires verifiers to
// accept, even ML-DSA-44 ones (about 3.3 KB each).
const MaxRequestSize = 128 << 10

// AddRequest is the body of an add-checkpoint request (c2sp.org/tlog-witness):
// the line "old <size>", one line per consistency proof hash in base64, an
// empty line, then the signed checkpoint note.
type AddRequest struct {
	// OldSize is the size of the latest checkpoint the client believes the
	// witness cosigned (0 for none).
	OldSize uint64
	// Proof is the RFC 6962 consistency proof from OldSize to the
	// checkpoint's size; empty when OldSize is 0 or equals that size.
	Proof []tlog.Hash
	// Checkpoint is the signed checkpoint note, as the log serves it.
	Checkpoint []byte
}

// Marshal returns the request body. Whatever ParseAddCheckpoint accepts,
// Marshal reproduces byte for byte.
func (r AddRequest) Marshal() []byte {
	b := make([]byte, 0, 24+45*len(r.Proof)+1+len(r.Checkpoint))
	b = append(b, "old "...)
	b = strconv.AppendUint(b, r.OldSize, 10)
	b = append(b, '\n')
	for _, h := range r.Proof {
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '\n')
	}
	b = append(b, '\n')
	return append(b, r.Checkpoint...)
}

// ParseAddCheckpoint parses an add-checkpoint request body strictly: the old
// size in canonical decimal ("0", or no leading zero), at most MaxProofHashes
// proof lines each the canonical padded base64 of a 32-byte hash, every line
// ending in "\n", the empty line, and a non-empty checkpoint note (checked
// later, by AddCheckpoint). Errors wrap ErrMalformed.
func ParseAddCheckpoint(body []byte) (AddRequest, error) {
	bad := func(format string, args ...any) (AddRequest, error) {
		return AddRequest{}, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return bad("no old size line")
	}
	num, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return bad("first line must be \"old <size>\"")
	}
	old, err := parseSize(num)
	if err != nil {
		return bad("old size: %v", err)
	}
	var r AddRequest
	r.OldSize = old
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return bad("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxProofHashes {
			return bad("more than %d consistency proof lines", MaxProofHashes)
		}
		h, err := parseHash(line)
		if err != nil {
			return bad("consistency proof line %d: %v", len(r.Proof)+1, err)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return bad("no checkpoint")
	}
	r.Checkpoint = rest
	return r, nil
}

// parseSize parses a tree size in canonical decimal.
func parseSize(b []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != string(b) {
		return 0, fmt.Errorf("%.30q is not a decimal uint64 without leading zeros", b)
	}
	return n, nil
}

// parseHash decodes the canonical padded standard base64 of a 32-byte hash.
func parseHash(b []byte) (tlog.Hash, error) {
	var h tlog.Hash
	d, err := base64.StdEncoding.Strict().DecodeString(string(b))
	// The decoder skips CR and LF; only the canonical encoding is accepted.
	if err != nil || len(d) != tlog.HashSize || base64.StdEncoding.EncodeToString(d) != string(b) {
		return h, fmt.Errorf("not the canonical base64 of a %d-byte hash", tlog.HashSize)
	}
	copy(h[:], d)
	return h, nil
}

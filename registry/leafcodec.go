package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// leafHeader is the JSON line before the op bytes of a stored leaf record.
type leafHeader struct {
	Index   uint64 `json:"index"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	Hash    string `json:"hash"`
}

// EncodeLeaf returns the record drivers store for a leaf: a JSON header, '\n',
// then the op bytes unchanged. JSON never contains a raw newline, so the first
// one ends the header.
func EncodeLeaf(l Leaf) ([]byte, error) {
	h, err := json.Marshal(leafHeader{l.Index, l.Subject, l.Seq, l.Hash})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(h)+1+len(l.Data))
	return append(append(append(out, h...), '\n'), l.Data...), nil
}

// DecodeLeaf parses a record made by EncodeLeaf, copying the data out of rec.
func DecodeLeaf(rec []byte) (Leaf, error) {
	i := bytes.IndexByte(rec, '\n')
	if i < 0 {
		return Leaf{}, errors.New("corrupt leaf record: no header")
	}
	var h leafHeader
	if err := json.Unmarshal(rec[:i], &h); err != nil {
		return Leaf{}, fmt.Errorf("corrupt leaf record: %w", err)
	}
	return Leaf{Index: h.Index, Subject: h.Subject, Seq: h.Seq, Hash: h.Hash, Data: bytes.Clone(rec[i+1:])}, nil
}

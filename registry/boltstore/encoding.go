package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func encodeHead(h registry.Head) []byte {
	return append(be64(h.Seq), h.Hash...)
}

func decodeHead(v []byte) (registry.Head, error) {
	if v == nil {
		return registry.Head{}, nil
	}
	if len(v) < 8 {
		return registry.Head{}, errors.New("corrupt subject head")
	}
	return registry.Head{Seq: binary.BigEndian.Uint64(v), Hash: string(v[8:])}, nil
}

// historyPrefix is the key prefix of subject's history entries.
func historyPrefix(subject string) []byte {
	p := binary.BigEndian.AppendUint32(nil, uint32(len(subject)))
	return append(p, subject...)
}

func historyKey(subject string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(subject), seq)
}

// checkpointRecord is the value of meta "checkpoint".
type checkpointRecord struct {
	size   uint64
	root   tlog.Hash
	signed []byte
}

func (c checkpointRecord) encode() []byte {
	out := be64(c.size)
	out = append(out, c.root[:]...)
	return append(out, c.signed...)
}

func decodeCheckpoint(v []byte) (checkpointRecord, error) {
	if len(v) < 8+tlog.HashSize {
		return checkpointRecord{}, errors.New("corrupt checkpoint record")
	}
	var c checkpointRecord
	c.size = binary.BigEndian.Uint64(v)
	copy(c.root[:], v[8:])
	c.signed = bytes.Clone(v[8+tlog.HashSize:])
	return c, nil
}

// --- transaction helpers ---

func treeSize(tx *bbolt.Tx) (uint64, error) {
	v := tx.Bucket(bucketMeta).Get(keySize)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, errors.New("corrupt tree size")
	}
	return binary.BigEndian.Uint64(v), nil
}

// txHashes reads stored hashes inside tx.
func txHashes(tx *bbolt.Tx, indexes []int64) ([]tlog.Hash, error) {
	b := tx.Bucket(bucketHashes)
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 {
			return nil, fmt.Errorf("invalid stored hash index %d", idx)
		}
		v := b.Get(be64(uint64(idx)))
		if v == nil {
			return nil, fmt.Errorf("%w: stored hash %d", registry.ErrNotFound, idx)
		}
		if len(v) != tlog.HashSize {
			return nil, fmt.Errorf("corrupt stored hash %d", idx)
		}
		copy(out[i][:], v)
	}
	return out, nil
}

func txReader(tx *bbolt.Tx) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return txHashes(tx, idx) })
}

func txCheckpoint(tx *bbolt.Tx) (checkpointRecord, bool, error) {
	v := tx.Bucket(bucketMeta).Get(keyCheckpoint)
	if v == nil {
		return checkpointRecord{}, false, nil
	}
	c, err := decodeCheckpoint(v)
	return c, err == nil, err
}

package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// A holder record is JSON in clear, and its DID, key id and verification
// method say which key signs for the holder. Someone who can write to the
// store but has no master key could point holder B's record at holder A's
// key, so that B's token signs as A. The wrapped data key prevents it: its
// additional data binds the holder id, DID, verification method, key id
// and DID method, so once a record's fields are changed its data key no
// longer opens (ErrCorrupt), and every operation that reads a holder's
// data or signs for it opens the data key first (Service.open; the cache
// of data keys is keyed by the same additional data).

// dekAADDomainV2 starts the additional data of a version 2 wrapped key.
const dekAADDomainV2 = "credence/wallet/dek/v2\x00"

// errUpgraded: another call upgraded the holder record first.
var errUpgraded = errors.New("wallet: holder record upgraded concurrently")

// dekAAD is the additional data the record's data key is wrapped with.
func (r *holderRecord) dekAAD() []byte {
	if r.V == holderVersion1 {
		return dekAADv1(r.ID)
	}
	return append([]byte(dekAADDomainV2), r.identity()...)
}

// identity encodes the fields the data key binds, unambiguously.
func (r *holderRecord) identity() []byte {
	b, _ := json.Marshal([]string{r.ID, r.DID, r.VerificationMethod, r.KeyID, r.DIDMethod}) // strings never fail
	return b
}

// upgrade rewrites a version 1 holder record, whose data key was wrapped
// binding the holder id only, as version 2: the data key wrapped again
// binding the holder's identity, and CredentialBytes, which version 1 did
// not keep, set to the sealed size of the holder's stored credentials. It
// runs on the first open of the record, if the record is unchanged since
// it was read (else errUpgraded).
//
// The byte count is approximate only for credentials added or deleted by
// other processes while it runs (at most those in flight). A version 1
// record altered in the store before its upgrade is not detected (the
// upgrade binds what it finds), nor is a version 1 record put back from a
// copy of the store: version 1 records stay readable.
func (s *Service) upgrade(ctx context.Context, old *holderRecord, dek []byte) (*holderRecord, error) {
	n, err := s.storedBytes(ctx, old.ID)
	if err != nil {
		return nil, err
	}
	var out *holderRecord
	err = s.updateHolder(ctx, old.ID, func(r *holderRecord) error {
		if r.V != holderVersion1 || !bytes.Equal(r.DEK, old.DEK) || !bytes.Equal(r.identity(), old.identity()) {
			return errUpgraded
		}
		r.V = holderVersion
		wrapped, err := s.Master.Seal(dek, r.dekAAD())
		if err != nil {
			return err
		}
		r.DEK, r.CredentialBytes = wrapped, max(r.CredentialBytes, n)
		out = r
		return nil
	})
	return out, err
}

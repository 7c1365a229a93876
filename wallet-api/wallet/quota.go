package wallet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// The holder record counts what a holder stores: its credentials (number
// and sealed bytes, against MaxCredentials and MaxCredentialStoreBytes)
// and its disclosure-log entries. A credential is counted in the same
// compare-and-swap that checks the limits, before it is written, and
// uncounted when the write fails or the credential is deleted; so
// concurrent adds, in any number of processes, never take a holder past
// either limit.

// reserveCredential counts one more credential, or fails with ErrLimit.
// seal makes the sealed record of the credential given its sequence
// number; reserveCredential returns that record, whose size it counted.
// seal may run more than once (a compare-and-swap retried).
func (s *Service) reserveCredential(ctx context.Context, id string, seal func(seq uint64) ([]byte, error)) ([]byte, error) {
	var sealed []byte
	count := s.limit(s.maxCredentials, MaxCredentials)
	size := cmp.Or(s.maxStoreBytes, MaxCredentialStoreBytes)
	err := s.updateHolder(ctx, id, func(r *holderRecord) error {
		if r.Credentials >= count {
			return fmt.Errorf("%w: a holder keeps at most %d credentials; delete some first", ErrLimit, count)
		}
		b, err := seal(r.CredentialSeq + 1)
		if err != nil {
			return err
		}
		if r.CredentialBytes+int64(len(b)) > size {
			return fmt.Errorf("%w: a holder's credentials take at most %s and this one (%d bytes) does not fit; delete some first",
				ErrLimit, byteSize(size), len(b))
		}
		r.Credentials++
		r.CredentialSeq++
		r.CredentialBytes += int64(len(b))
		sealed = b
		return nil
	})
	return sealed, err
}

// byteSize writes n in MiB when it is a whole number of them.
func byteSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// reserveDisclosure counts one more disclosure and returns its sequence
// number and the count.
func (s *Service) reserveDisclosure(ctx context.Context, id string) (seq uint64, n int, err error) {
	err = s.updateHolder(ctx, id, func(r *holderRecord) error {
		r.Disclosures++
		r.DisclosureSeq++
		seq, n = r.DisclosureSeq, r.Disclosures
		return nil
	})
	return seq, n, err
}

// releaseCredential uncounts a credential of size sealed bytes (a failed
// write or a deletion).
func (s *Service) releaseCredential(ctx context.Context, id string, size int) error {
	return s.release(ctx, id, func(r *holderRecord) {
		r.Credentials = max(r.Credentials-1, 0)
		r.CredentialBytes = max(r.CredentialBytes-int64(size), 0)
	})
}

// releaseDisclosures uncounts n disclosures (a failed write or a prune).
func (s *Service) releaseDisclosures(ctx context.Context, id string, n int) error {
	return s.release(ctx, id, func(r *holderRecord) { r.Disclosures = max(r.Disclosures-n, 0) })
}

// release changes the counts of a holder, which may be gone: then there is
// nothing to count.
func (s *Service) release(ctx context.Context, id string, fn func(*holderRecord)) error {
	err := s.updateHolder(context.WithoutCancel(ctx), id, func(r *holderRecord) error { fn(r); return nil })
	if errors.Is(err, ErrHolderNotFound) {
		return nil
	}
	return err
}

// storedBytes sums the sizes of a holder's sealed credentials, for a
// holder record written before the record counted them (see upgrade).
func (s *Service) storedBytes(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.Store.List(ctx, bucketCredentials+id, "", func(_ string, b []byte) error {
		n += int64(len(b))
		return nil
	})
	return n, err
}

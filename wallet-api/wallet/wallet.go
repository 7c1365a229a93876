package wallet

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc/secure"
)

// Limits.
const (
	// MaxCredentials bounds the credentials of one holder (ErrLimit). A
	// clinician keeps a few dozen (licenses, registrations, board
	// certifications, their renewals), a patient fewer: a thousand is far
	// beyond use and bounds what one holder token can make the store keep.
	MaxCredentials = 1000
	// MaxCredentialStoreBytes bounds the total size of one holder's stored
	// credentials, as sealed (ErrLimit): 64 MiB, about 250 credentials of
	// the largest size, a few thousand of a typical one.
	MaxCredentialStoreBytes = 64 << 20
	// MaxDisclosures bounds the disclosure log of one holder: older entries
	// are dropped (see RecordDisclosure).
	MaxDisclosures = 10000
	// MaxCredentialBytes bounds a received credential (ErrTooLarge).
	MaxCredentialBytes = 256 << 10
	// MaxLabel bounds a holder label, in characters.
	MaxLabel = 200
)

// Errors of the wallet; test with errors.Is.
var (
	ErrHolderNotFound     = errors.New("wallet holder not found")
	ErrCredentialNotFound = errors.New("credential not found in the wallet")
	ErrDisclosureNotFound = errors.New("disclosure not found in the wallet")
	// ErrInvalid: the input is malformed or a credential does not verify;
	// the error also wraps the cause (a vc sentinel or *vc.InvalidError).
	ErrInvalid = errors.New("invalid wallet input")
	// ErrNotBound: a credential that verified is not issued to this holder.
	ErrNotBound = errors.New("credential is not bound to this holder")
	// ErrTooLarge: a credential exceeds MaxCredentialBytes.
	ErrTooLarge = errors.New("credential too large")
	// ErrLimit: the holder has MaxCredentials credentials, or one more
	// would take its credentials past MaxCredentialStoreBytes.
	ErrLimit = errors.New("wallet limit reached")
	// ErrCorrupt: a stored record does not decrypt under this holder's
	// key for this record (tampered with, moved or damaged).
	ErrCorrupt = errors.New("stored wallet record is corrupted or was moved")
)

// Service keeps holders, their encrypted credentials and disclosure logs.
// Several Services (or processes) may share a store. A Service must not be
// copied after first use.
type Service struct {
	Store kv.Store
	// Keys keeps the holders' signing keys (label "wallet holder <id>").
	Keys keys.Manager
	// Master wraps each holder's data key.
	Master keys.MasterKey
	// Tokens issues and revokes holder tokens.
	Tokens *auth.Store
	// Verify checks a received credential's securing mechanism and data
	// model (not its status); the server passes secure.Engine.VerifyCredential
	// with its key resolver. input is what secure.ParseInput returns.
	Verify func(ctx context.Context, input any) (*secure.Verified, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Limits, lowered by tests (0: the exported constants).
	maxCredentials, maxDisclosures int
	maxStoreBytes                  int64

	cacheOnce sync.Once
	cache     *dekCache
}

// ScopePrefix starts the token scope of a holder: "holder:<id>".
const ScopePrefix = "holder:"

// Scope is the token scope of holder holderID.
func Scope(holderID string) string { return ScopePrefix + holderID }

// HolderOf returns the holder id a token is scoped to: its one scope
// "holder:<id>". An admin token, a token without a holder scope or with
// scopes of several holders is scoped to none.
func HolderOf(t auth.Token) (string, bool) {
	var id string
	for _, sc := range t.Scopes {
		h, ok := strings.CutPrefix(sc, ScopePrefix)
		if !ok {
			continue
		}
		if !validID(h, 'h') || (id != "" && id != h) {
			return "", false
		}
		id = h
	}
	return id, id != ""
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) limit(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// idEncoding is lowercase, unpadded base32: ids are URL-safe and case-free.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idBytes is the entropy of a wallet id; ids are one kind letter and
// idLen-1 base32 characters.
const (
	idBytes = 16
	idLen   = 1 + (idBytes*8+4)/5
)

// newID returns a random id of a kind: 'h' holder, 'd' disclosure.
func newID(kind byte) string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // never fails
	return string(kind) + idEncoding.EncodeToString(b[:])
}

// validID reports whether id is a well-formed id of kind, so that no odd
// kv key or bucket is ever built from input.
func validID(id string, kind byte) bool {
	if len(id) != idLen || id[0] != kind {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

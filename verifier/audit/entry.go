package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// Entry is one recorded verification decision. Append fills Seq, Time, Prev
// and Hash; the caller fills the rest.
type Entry struct {
	// Chain is the verifier tenant the decision belongs to (DefaultChain
	// for requests without a tenant).
	Chain string `json:"chain"`
	// Seq numbers the chain's entries 1, 2, ...
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Prev is the Hash of the chain's previous entry ("" for seq 1).
	Prev string `json:"prev"`
	// Hash is EntryHash of the entry: it covers every other member.
	Hash string `json:"hash,omitempty"`
	// Requester is who asked: a token id ("tok_" + 16 hex digits) or
	// "anonymous", never a token secret.
	Requester string `json:"requester"`
	// Request is the presentation request id, if any.
	Request string `json:"request,omitempty"`
	// Kind is KindCredential or KindPresentation.
	Kind        string          `json:"kind"`
	Credentials []CredentialRef `json:"credentials"`
	// Holder is the presentation holder's DID, if any: providers' DIDs are
	// public and patients use pairwise did:key, so no names, birth dates
	// or NPIs are ever recorded.
	Holder   string  `json:"holder,omitempty"`
	Checks   []Check `json:"checks"`
	Verified bool    `json:"verified"`
	// Decision is accept, review or reject.
	Decision string `json:"decision"`
	// Errors and Warnings hold reason codes only ("CREDENTIAL_REVOKED"):
	// messages can quote the credential's data.
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// CredentialRef names one credential that was checked, without its content.
type CredentialRef struct {
	ID     string   `json:"id,omitempty"`
	Types  []string `json:"types,omitempty"`
	Issuer string   `json:"issuer,omitempty"`
	// Digest is Digest of the credential's bytes as received.
	Digest string `json:"digest"`
}

// Check is one named check of a verification and whether it passed.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
}

// Kinds of verification.
const (
	KindCredential   = "credential"
	KindPresentation = "presentation"
)

// DefaultChain is the chain of requests without a verifier tenant.
const DefaultChain = "default"

// Anonymous is the requester of a request without a token.
const Anonymous = "anonymous"

// Limits of an entry.
const (
	// MaxEntryBytes bounds the encoded entry (one export line).
	MaxEntryBytes  = 64 << 10
	MaxCredentials = 64
	MaxChecks      = 64
	MaxCodes       = 64
	maxTypes       = 16
	maxString      = 512
)

// The shapes of names the log accepts, as byte-class matchers (every
// decision is validated; a regexp costs several times more), each the
// equivalent of the regular expression beside it (see
// TestMatchersAreTheirRegexps):
var (
	chainName = shape{first: alnum, rest: either(alnum, anyOf("._-")), min: 1, max: 128}     // ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$
	tokenID   = shape{prefix: "tok_", first: hexLower, rest: hexLower, min: 16, max: 16}     // ^tok_[0-9a-f]{16}$
	code      = shape{first: upper, rest: either(upper, digit, anyOf("_")), min: 1, max: 64} // ^[A-Z][A-Z0-9_]{0,63}$
	checkName = shape{first: letter, rest: either(alnum, anyOf("_.:-")), min: 1, max: 64}    // ^[A-Za-z][A-Za-z0-9_.:-]{0,63}$
	digestHex = shape{prefix: "sha256:", first: hexLower, rest: hexLower, min: 64, max: 64}  // ^sha256:[0-9a-f]{64}$
)

// shape is a string of prefix and then min to max bytes, the first of
// class first and the others of class rest.
type shape struct {
	prefix      string
	first, rest func(byte) bool
	min, max    int
}

// MatchString reports whether s has the shape.
func (p shape) MatchString(s string) bool {
	if len(s) < len(p.prefix) || s[:len(p.prefix)] != p.prefix {
		return false
	}
	s = s[len(p.prefix):]
	if len(s) < p.min || len(s) > p.max || (len(s) > 0 && !p.first(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !p.rest(s[i]) {
			return false
		}
	}
	return true
}

func upper(b byte) bool    { return 'A' <= b && b <= 'Z' }
func digit(b byte) bool    { return '0' <= b && b <= '9' }
func letter(b byte) bool   { return upper(b) || ('a' <= b && b <= 'z') }
func alnum(b byte) bool    { return letter(b) || digit(b) }
func hexLower(b byte) bool { return digit(b) || ('a' <= b && b <= 'f') }

func anyOf(set string) func(byte) bool {
	return func(b byte) bool { return strings.IndexByte(set, b) >= 0 }
}

func either(classes ...func(byte) bool) func(byte) bool {
	return func(b byte) bool {
		for _, c := range classes {
			if c(b) {
				return true
			}
		}
		return false
	}
}

// ValidChain reports whether name can name a chain: 1 to 128 ASCII letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func ValidChain(name string) bool { return chainName.MatchString(name) }

// Digest is "sha256:" and the lowercase hex SHA-256 of b: the form of
// CredentialRef.Digest and Entry.Hash.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// EntryHash is Digest of the JCS (RFC 8785) form of e's JSON encoding
// without the "hash" member; e.Hash is ignored.
func EntryHash(e Entry) (string, error) {
	e.Hash = ""
	b, err := canonicalEntry(&e)
	if err != nil {
		return "", err
	}
	return Digest(b), nil
}

// canonical is the JCS form of v's JSON encoding.
func canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(b)
}

// normalize makes nil lists empty and the time UTC without a monotonic
// reading, so an entry encodes the same before and after a round trip.
func (e *Entry) normalize() {
	if e.Credentials == nil {
		e.Credentials = []CredentialRef{}
	}
	if e.Checks == nil {
		e.Checks = []Check{}
	}
	e.Time = e.Time.UTC().Round(0)
}

// validate checks what the caller filled in; it keeps secrets, messages and
// unbounded input out of the log.
func (e *Entry) validate() error {
	switch {
	case !ValidChain(e.Chain):
		return invalid("chain", "1 to 128 letters, digits, '.', '_' or '-'")
	case e.Requester != Anonymous && !tokenID.MatchString(e.Requester):
		return invalid("requester", `a token id ("tok_" and 16 hex digits) or "anonymous"`)
	case e.Kind != KindCredential && e.Kind != KindPresentation:
		return invalid("kind", "credential or presentation")
	case e.Decision != "accept" && e.Decision != "review" && e.Decision != "reject":
		return invalid("decision", "accept, review or reject")
	case !text(e.Request):
		return invalid("request", "at most 512 printable characters")
	case e.Holder != "" && (!strings.HasPrefix(e.Holder, "did:") || !text(e.Holder)):
		return invalid("holder", "a DID of at most 512 characters")
	case len(e.Credentials) > MaxCredentials || len(e.Checks) > MaxChecks:
		return invalid("credentials", fmt.Sprintf("at most %d credentials and %d checks", MaxCredentials, MaxChecks))
	case len(e.Errors) > MaxCodes || len(e.Warnings) > MaxCodes:
		return invalid("errors", fmt.Sprintf("at most %d errors and %d warnings", MaxCodes, MaxCodes))
	}
	for i, c := range e.Credentials {
		if err := c.validate(); err != nil {
			return fmt.Errorf("%w (credentials[%d])", err, i)
		}
	}
	for _, c := range e.Checks {
		if !checkName.MatchString(c.Name) {
			return invalid("checks", "names of at most 64 letters, digits, '_', '.', ':' or '-'")
		}
	}
	for _, c := range append(e.Errors[:len(e.Errors):len(e.Errors)], e.Warnings...) {
		if !code.MatchString(c) {
			return invalid("errors", "reason codes such as CREDENTIAL_REVOKED, never messages")
		}
	}
	return nil
}

func (c CredentialRef) validate() error {
	if !digestHex.MatchString(c.Digest) {
		return invalid("digest", `"sha256:" and 64 lowercase hex digits`)
	}
	if !text(c.ID) || !text(c.Issuer) || len(c.Types) > maxTypes {
		return invalid("credential", "id and issuer of at most 512 printable characters, at most 16 types")
	}
	for _, t := range c.Types {
		if t == "" || !text(t) {
			return invalid("types", "non-empty, at most 512 printable characters")
		}
	}
	return nil
}

// text reports whether s is valid UTF-8 of at most maxString bytes without
// control characters.
func text(s string) bool {
	if len(s) > maxString || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

func invalid(field, detail string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidEntry, field, detail)
}

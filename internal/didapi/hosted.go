// Package didapi serves the DID layer over HTTP: DID Resolution at
// /1.0/identifiers/{did} (the DIF Universal Resolver / W3C DID Resolution binding),
// the did:web documents this service hosts (/.well-known/did.json and
// /{path}/did.json), and admin endpoints to create DIDs whose keys stay in the key
// manager.
package didapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
)

const (
	bucketWeb  = "didweb" // path ("" for the root) → Record
	bucketDIDs = "dids"   // did:key / did:jwk / did:credence → Record
)

// ErrInvalidRequest is a create request with bad input.
var ErrInvalidRequest = errors.New("invalid DID request")

// invalidField is an ErrInvalidRequest caused by one field of the request.
type invalidField struct{ field, msg string }

func (e *invalidField) Error() string        { return ErrInvalidRequest.Error() + ": " + e.msg }
func (e *invalidField) Is(target error) bool { return target == ErrInvalidRequest }

// A did:web path is reserved before its keys are made. A reservation older than
// reservationTTL belongs to a create that died midway (a crash between reserving
// and storing the record) and may be taken over.
const (
	reservationTTL  = time.Minute
	reservationPoll = 50 * time.Millisecond
)

// reservation is the placeholder stored at a did:web path while it is created. It
// decodes as a Record without keys, which every reader treats as absent.
type reservation struct {
	Reserved time.Time `json:"reserved"`
	Nonce    string    `json:"nonce"`
}

// errReservationLost means a create took longer than reservationTTL and another
// one took its path over.
var errReservationLost = errors.New("did:web path reservation was taken over before the DID was stored")

// Record is a DID this service controls. Keys stay in the key manager; a did:web's
// DID is derived from the current public host, so it is stored by path.
type Record struct {
	DID     string    `json:"did,omitempty"`
	Method  string    `json:"method"`
	Path    string    `json:"path,omitempty"`
	KeyIDs  []string  `json:"keyIds"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	// Pending lists did:credence next update keys made for ops that may have
	// reached the ledger before this record was updated (see credence.go).
	Pending []string `json:"pendingKeyIds,omitempty"`
}

// Hosted creates and keeps the service's DIDs.
type Hosted struct {
	kv   kv.Store
	keys keys.Manager
	host string // public host[:port] that names did:web DIDs
	now  func() time.Time
	// ledger records did:credence DIDs (nil: none can be made); ledgerMu
	// serializes this process's did:credence ops (other replicas are kept out by
	// the ledger's compare-and-append).
	ledger   Ledger
	ledgerMu sync.Mutex
}

// NewHosted returns the hosted-DID registry for the public host.
func NewHosted(s kv.Store, m keys.Manager, host string, opts ...HostedOption) *Hosted {
	h := &Hosted{kv: s, keys: m, host: host, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

var pathSegment = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ParsePath validates a did:web path such as "issuers/tx-board": 1–8 lowercase
// segments, no reserved first segment.
func ParsePath(p string) ([]string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, nil
	}
	segs := strings.Split(p, "/")
	if len(segs) > 8 {
		return nil, fmt.Errorf("%w: path has more than 8 segments", ErrInvalidRequest)
	}
	for _, s := range segs {
		if !pathSegment.MatchString(s) {
			return nil, fmt.Errorf("%w: path segment %q must be lowercase letters, digits, '.', '-' or '_'", ErrInvalidRequest, s)
		}
	}
	if reserved[segs[0]] {
		return nil, fmt.Errorf("%w: path may not start with %q", ErrInvalidRequest, segs[0])
	}
	return segs, nil
}

var reserved = map[string]bool{"admin": true, "1.0": true, "registry": true, "metrics": true, "healthz": true,
	"readyz": true, "status": true, "wallet": true, "verifier": true, "credentials": true, "presentations": true}

// EnsureServiceDID creates the root did:web (an Ed25519 and a P-256 key) on first
// start and returns its record. When another replica is creating it at the same
// time, it waits for that one to finish (or, if it died, for its reservation to
// expire) instead of failing.
func (h *Hosted) EnsureServiceDID(ctx context.Context) (Record, error) {
	deadline := time.Now().Add(reservationTTL + 10*time.Second)
	for {
		rec, err := h.webRecord(ctx, nil)
		if !errors.Is(err, kv.ErrNotFound) {
			return rec, err
		}
		rec, _, err = h.create(ctx, "web", nil, "service", keys.Ed25519, keys.P256)
		if !errors.Is(err, kv.ErrExists) {
			return rec, err
		}
		if time.Now().After(deadline) { // another replica is creating it
			return Record{}, fmt.Errorf("the service DID has been in creation by another process for over %s: %w", reservationTTL, err)
		}
		select {
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-time.After(reservationPoll):
		}
	}
}

// Create makes a DID of method key, jwk or web (with path) on a new key of alg,
// or a did:credence DID on the ledger (see CreateCredence, which also returns the
// ledger receipt).
func (h *Hosted) Create(ctx context.Context, method string, alg keys.Algorithm, path []string, label string) (Record, *did.Document, error) {
	switch {
	case method != "web" && method != "key" && method != "jwk" && method != "credence":
		return Record{}, nil, &invalidField{"method", "method must be key, jwk, web or credence"}
	case method == "web" && len(path) == 0:
		return Record{}, nil, &invalidField{"path", "a did:web needs a path (the root is the service's own DID)"}
	case method != "web" && len(path) > 0:
		return Record{}, nil, &invalidField{"path", "only did:web takes a path"}
	case method == "credence":
		res, err := h.CreateCredence(ctx, alg, label)
		return res.Record, res.Document, err
	}
	rec, doc, err := h.create(ctx, method, path, label, alg)
	if method == "web" && errors.Is(err, kv.ErrExists) {
		return Record{}, nil, &invalidField{"path", "a DID is already hosted at /" + strings.Join(path, "/")}
	}
	return rec, doc, err
}

func (h *Hosted) create(ctx context.Context, method string, path []string, label string, algs ...keys.Algorithm) (Record, *did.Document, error) {
	rec := Record{Method: method, Path: strings.Join(path, "/"), Label: label, Created: h.now().UTC().Truncate(time.Second)}
	if method != "web" {
		doc, err := h.generate(ctx, &rec, algs)
		if err != nil {
			return Record{}, nil, err
		}
		b, _ := json.Marshal(rec)
		return rec, doc, h.kv.Create(ctx, bucketDIDs, rec.DID, b)
	}
	resv, err := h.reserve(ctx, rec.Path) // before making keys
	if err != nil {
		return Record{}, nil, err
	}
	doc, err := h.generate(ctx, &rec, algs)
	if err == nil {
		b, _ := json.Marshal(rec)
		err = h.kv.Update(ctx, bucketWeb, webKey(rec.Path), func(old []byte) ([]byte, error) {
			if !bytes.Equal(old, resv) {
				return nil, errReservationLost
			}
			return b, nil
		})
	}
	if err != nil {
		h.release(ctx, rec.Path, resv)
		return Record{}, nil, err
	}
	return rec, doc, nil
}

// generate makes rec's keys and returns its document, setting rec.DID.
func (h *Hosted) generate(ctx context.Context, rec *Record, algs []keys.Algorithm) (*did.Document, error) {
	for _, alg := range algs {
		k, err := h.keys.Generate(ctx, alg, "did:"+rec.Method+" "+rec.Label)
		if err != nil {
			return nil, err
		}
		rec.KeyIDs = append(rec.KeyIDs, k.ID)
	}
	doc, err := h.document(ctx, *rec)
	if err != nil {
		return nil, err
	}
	rec.DID = doc.ID
	return doc, nil
}

// reserve takes a did:web path for a create: it fails with kv.ErrExists when a
// DID is hosted there or another create reserved it less than reservationTTL ago.
// It returns the stored reservation, which only its owner can replace.
func (h *Hosted) reserve(ctx context.Context, path string) ([]byte, error) {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	now := h.now().UTC()
	resv, err := json.Marshal(reservation{Reserved: now, Nonce: hex.EncodeToString(nonce[:])})
	if err != nil {
		return nil, err
	}
	err = h.kv.Update(ctx, bucketWeb, webKey(path), func(old []byte) ([]byte, error) {
		if old != nil && !abandoned(old, now) {
			return nil, kv.ErrExists
		}
		return resv, nil
	})
	return resv, err
}

// abandoned reports whether a stored did:web value is a reservation (no keys)
// older than reservationTTL; "{}", the marker of a released one, always is.
func abandoned(v []byte, now time.Time) bool {
	var r struct {
		reservation
		KeyIDs []string `json:"keyIds"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return false
	}
	return len(r.KeyIDs) == 0 && now.Sub(r.Reserved) > reservationTTL
}

// release frees the path of a failed create, unless another took it over.
func (h *Hosted) release(ctx context.Context, path string, resv []byte) {
	_ = h.kv.Update(context.WithoutCancel(ctx), bucketWeb, webKey(path), func(old []byte) ([]byte, error) {
		if !bytes.Equal(old, resv) {
			return nil, errReservationLost
		}
		return []byte("{}"), nil
	})
}

func webKey(path string) string { return "/" + path }

func (h *Hosted) webRecord(ctx context.Context, path []string) (Record, error) {
	b, err := h.kv.Get(ctx, bucketWeb, webKey(strings.Join(path, "/")))
	if err != nil {
		return Record{}, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, fmt.Errorf("failed to decode hosted DID: %w", err)
	}
	if len(rec.KeyIDs) == 0 { // reserved but not finished (or crashed mid-create)
		return Record{}, kv.ErrNotFound
	}
	rec.DID = h.webDID(rec.Path).String() // named by the current public host
	return rec, nil
}

// WebDocument returns the hosted did:web document at path (nil for the root).
func (h *Hosted) WebDocument(ctx context.Context, path []string) (*did.Document, error) {
	rec, err := h.webRecord(ctx, path)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, did.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return h.document(ctx, rec)
}

// List returns every hosted DID, did:web ones named with the current host.
func (h *Hosted) List(ctx context.Context) ([]Record, error) {
	var out []Record
	collect := func(_ string, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil || len(r.KeyIDs) == 0 {
			return nil
		}
		if r.Method == "web" {
			r.DID = h.webDID(r.Path).String()
		}
		out = append(out, r)
		return nil
	}
	if err := h.kv.List(ctx, bucketWeb, "", collect); err != nil {
		return nil, err
	}
	return out, h.kv.List(ctx, bucketDIDs, "", collect)
}

func (h *Hosted) webDID(path string) did.DID {
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	d, _ := did.WebDID(h.host, segs...)
	return d
}

// document builds a record's DID document from its keys.
func (h *Hosted) document(ctx context.Context, rec Record) (*did.Document, error) {
	k, err := h.keys.Key(ctx, rec.KeyIDs[0])
	if err != nil {
		return nil, err
	}
	switch rec.Method {
	case "key":
		d, err := did.KeyDID(k.Public)
		if err != nil {
			return nil, err
		}
		return did.KeyDocument(d, "", false)
	case "jwk":
		d, err := did.JWKDID(k.Public)
		if err != nil {
			return nil, err
		}
		return did.JWKDocument(d)
	}
	return h.webDocument(ctx, rec)
}

func (h *Hosted) webDocument(ctx context.Context, rec Record) (*did.Document, error) {
	id := h.webDID(rec.Path).String()
	doc := &did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: id}
	for i, kid := range rec.KeyIDs {
		k, err := h.keys.Key(ctx, kid)
		if err != nil {
			return nil, err
		}
		mk, err := did.EncodeMultikey(k.Public)
		if err != nil {
			return nil, err
		}
		vm := did.VerificationMethod{ID: fmt.Sprintf("%s#key-%d", id, i+1), Type: did.TypeMultikey, Controller: id, PublicKeyMultibase: mk}
		doc.VerificationMethod = append(doc.VerificationMethod, vm)
		ref := did.Relationship{Ref: vm.ID}
		doc.AssertionMethod = append(doc.AssertionMethod, ref)
		doc.Authentication = append(doc.Authentication, ref)
		doc.CapabilityInvocation = append(doc.CapabilityInvocation, ref)
		doc.CapabilityDelegation = append(doc.CapabilityDelegation, ref)
	}
	return doc, nil
}

// LocalWeb resolves did:web DIDs of this service's own host from the hosted
// registry (no network round trip to itself) and others through remote.
type LocalWeb struct {
	Hosted *Hosted
	Remote did.Method
}

// Resolve implements did.Method.
func (l LocalWeb) Resolve(ctx context.Context, d did.DID, opts did.Options) (*did.Resolution, error) {
	u, err := did.WebURL(d)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(u.Host, l.Hosted.host) {
		return l.Remote.Resolve(ctx, d, opts)
	}
	if opts.VersionID != "" || opts.VersionTime != "" {
		return nil, fmt.Errorf("%w: did:web has no versions", did.ErrInvalidOptions)
	}
	path := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "did.json")
	var segs []string
	if path != ".well-known/" {
		segs = strings.Split(strings.TrimSuffix(path, "/"), "/")
	}
	doc, err := l.Hosted.WebDocument(ctx, segs)
	if err != nil {
		return nil, err
	}
	if doc.ID != d.String() {
		// Another spelling of a hosted document's URL (host case, percent-encoding,
		// the well-known path as a segment) is not that document's DID: a remote
		// did:web resolver rejects the id mismatch, so must this one.
		return nil, fmt.Errorf("%w: %s (the document there is %s)", did.ErrNotFound, d, doc.ID)
	}
	return &did.Resolution{Document: doc, Metadata: did.ResolutionMetadata{ContentType: did.MediaDIDLDJSON}}, nil
}

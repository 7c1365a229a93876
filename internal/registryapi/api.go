// Package registryapi serves the ledger over HTTP: submitting signed operations,
// the latest C2SP checkpoint and the log's verifier key, entries, inclusion and
// consistency proofs, and a subject's op chain. Reads are public (the ledger is for
// anyone to audit); submitting requires a bearer token with the registry scope.
package registryapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"github.com/gin-gonic/gin"
)

// ScopeRegistry allows submitting operations.
const ScopeRegistry = "registry"

// SubmitRoute is the route that submits an op. Its body may be up to
// MaxSubmitBytes: a server-wide body limit below that must make an exception
// for it (httpx.LimitBody's routes).
const SubmitRoute = "/registry/ops"

// MaxSubmitBytes is the largest op the registry accepts (registry.MaxOpBytes,
// 256 KiB: a status list update of registry.MaxStatusChanges indexes fits).
const MaxSubmitBytes int64 = registry.MaxOpBytes

// API serves a registry.Log.
type API struct {
	Log *registry.Log
	// VerifierKey is the note verifier key of the log's checkpoints.
	VerifierKey string
	Logger      *slog.Logger
	// Cosigned adds witnesses' cosignatures to the served checkpoint and
	// serves the latest witnessed one; nil when the registry has no
	// witnesses. Witnesses and Quorum are published with the key.
	Cosigned  Cosignatures
	Witnesses []WitnessKey
	Quorum    int
	// WitnessKey is this server's cosignature key when it witnesses other
	// registries' logs ("" otherwise).
	WitnessKey string
}

// Routes mounts the public read routes on r and the submit route on writers (which
// must already require ScopeRegistry).
func (a *API) Routes(r gin.IRoutes, writers gin.IRoutes) {
	writers.POST(SubmitRoute, a.submit)
	r.GET("/registry/checkpoint", a.checkpoint)
	r.GET("/registry/checkpoint/witnessed", a.witnessed)
	r.GET("/registry/key", a.key)
	r.GET("/registry/entries/:index", a.entry)
	r.GET("/registry/proofs/inclusion", a.inclusion)
	r.GET("/registry/proofs/consistency", a.consistency)
	r.GET("/registry/subjects/*subject", a.history)
}

func (a *API) submit(c *gin.Context) {
	// One byte more than the limit, so that Decode answers ErrTooLarge (413).
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxSubmitBytes+1))
	if err != nil {
		httpx.Error(c, a.Logger, err)
		return
	}
	rec, err := a.Log.Submit(c.Request.Context(), raw)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, rec)
}

// ruleStatus maps rule violations to HTTP statuses and stable problem names.
var ruleStatus = []struct {
	err    error
	status int
	name   string
}{
	{registry.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large"},
	{registry.ErrMalformed, http.StatusBadRequest, "malformed"},
	{registry.ErrUnsupportedType, http.StatusBadRequest, "unsupported-type"},
	{registry.ErrReplay, http.StatusConflict, "replay"},
	{registry.ErrFork, http.StatusConflict, "fork"},
	{registry.ErrSeqGap, http.StatusConflict, "seq-gap"},
	{registry.ErrSubjectExists, http.StatusConflict, "subject-exists"},
	{registry.ErrConflict, http.StatusConflict, "conflict"},
	{registry.ErrUnknownSubject, http.StatusUnprocessableEntity, "unknown-subject"},
	{registry.ErrBadSCID, http.StatusUnprocessableEntity, "bad-scid"},
	{registry.ErrBadSignature, http.StatusUnprocessableEntity, "bad-signature"},
	{registry.ErrUnauthorizedKey, http.StatusUnprocessableEntity, "unauthorized-key"},
	{registry.ErrDeactivated, http.StatusUnprocessableEntity, "deactivated"},
	{registry.ErrTimeNotMonotonic, http.StatusUnprocessableEntity, "time-not-monotonic"},
	{registry.ErrTimeInFuture, http.StatusUnprocessableEntity, "time-in-future"},
	{registry.ErrPreRotation, http.StatusUnprocessableEntity, "pre-rotation"},
	{registry.ErrListHash, http.StatusUnprocessableEntity, "list-hash"},
	{registry.ErrIrreversible, http.StatusUnprocessableEntity, "irreversible"},
	{registry.ErrReadOnly, http.StatusServiceUnavailable, "read-only"},
	{merkle.ErrOutOfRange, http.StatusBadRequest, "out-of-range"},
	{registry.ErrNotFound, http.StatusNotFound, "not-found"},
}

// Problem maps a ledger error (a rule violation, a conflict, a read-only store, an
// out-of-range proof request) to the problem the registry API answers with; ok is
// false for any other error.
func Problem(err error) (p *httpx.Problem, ok bool) {
	for _, r := range ruleStatus {
		if errors.Is(err, r.err) {
			detail := err.Error()
			var re *registry.RuleError
			if errors.As(err, &re) {
				detail = re.Reason
			}
			return httpx.NewProblem(r.status, "registry:"+r.name, r.err.Error(), detail), true
		}
	}
	return nil, false
}

func (a *API) fail(c *gin.Context, err error) {
	if p, ok := Problem(err); ok {
		httpx.WriteProblem(c, p)
		return
	}
	httpx.Error(c, a.Logger, err)
}

func (a *API) checkpoint(c *gin.Context) {
	cp, err := a.Log.Checkpoint(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.Cosigned != nil {
		if cp, err = a.Cosigned.Attach(c.Request.Context(), cp); err != nil {
			httpx.Error(c, a.Logger, err)
			return
		}
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", cp)
}

// entryView is a leaf as served: the op as JSON, its hash and position.
type entryView struct {
	Index   uint64          `json:"index"`
	Subject string          `json:"subject"`
	Seq     uint64          `json:"seq"`
	Hash    string          `json:"hash"`
	Op      json.RawMessage `json:"op"`
}

func (a *API) entry(c *gin.Context) {
	i, ok := a.uintParam(c, "index", c.Param("index"))
	if !ok {
		return
	}
	leaf, err := a.Log.Leaf(c.Request.Context(), i)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	httpx.JSON(c, http.StatusOK, "application/json", entryView{Index: leaf.Index, Subject: leaf.Subject, Seq: leaf.Seq, Hash: leaf.Hash, Op: leaf.Data})
}

func (a *API) inclusion(c *gin.Context) {
	index, ok1 := a.uintParam(c, "index", c.Query("index"))
	if !ok1 {
		return
	}
	size, ok2 := a.uintParam(c, "size", c.Query("size"))
	if !ok2 {
		return
	}
	p, err := a.Log.ProveInclusion(c.Request.Context(), index, size)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (a *API) consistency(c *gin.Context) {
	from, ok1 := a.uintParam(c, "from", c.Query("from"))
	if !ok1 {
		return
	}
	to, ok2 := a.uintParam(c, "to", c.Query("to"))
	if !ok2 {
		return
	}
	p, err := a.Log.ProveConsistency(c.Request.Context(), from, to)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (a *API) history(c *gin.Context) {
	subject, ok := strings.CutSuffix(strings.TrimPrefix(c.Param("subject"), "/"), "/history")
	if !ok || subject == "" {
		httpx.WriteProblem(c, httpx.NotFound("use /registry/subjects/{subject}/history"))
		return
	}
	ops, err := a.Log.History(c.Request.Context(), subject)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]entryView, 0, len(ops))
	for _, so := range ops {
		out = append(out, entryView{Index: so.Index, Subject: subject, Seq: so.Op.Seq, Hash: registry.OpHash(so.Data), Op: so.Data})
	}
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"subject": subject, "ops": out})
}

func (a *API) uintParam(c *gin.Context, name, v string) (uint64, bool) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		httpx.WriteProblem(c, httpx.BadRequest(name+" must be a non-negative integer"))
		return 0, false
	}
	return n, true
}

// Cosignatures is what the API needs of the log's witness publisher
// (witness.Publisher) when the registry has witnesses.
type Cosignatures interface {
	// Attach adds the cosignatures collected for the checkpoint signed.
	Attach(ctx context.Context, signed []byte) ([]byte, error)
	// Witnessed is the latest checkpoint a quorum cosigned (witness.ErrNotFound before the first).
	Witnessed(ctx context.Context) ([]byte, error)
}

// WitnessKey is a witness of the registry's log: where it is and its
// cosignature verifier key.
type WitnessKey struct {
	URL         string `json:"url"`
	VerifierKey string `json:"verifierKey"`
}

// keyView is GET /registry/key.
type keyView struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifierKey"`
	// Witnesses cosign the log's checkpoints; a checkpoint counts as
	// witnessed with the cosignatures of Quorum of them.
	Witnesses []WitnessKey `json:"witnesses,omitempty"`
	Quorum    int          `json:"quorum,omitempty"`
	// WitnessKey is this server's own cosignature key, when it witnesses
	// other registries' logs at /witness/add-checkpoint.
	WitnessKey string `json:"witnessKey,omitempty"`
}

func (a *API) key(c *gin.Context) {
	c.JSON(http.StatusOK, keyView{Origin: a.Log.Origin(), VerifierKey: a.VerifierKey, Witnesses: a.Witnesses, Quorum: a.Quorum, WitnessKey: a.WitnessKey})
}

// witnessed serves the latest checkpoint a quorum of the witnesses cosigned.
func (a *API) witnessed(c *gin.Context) {
	if a.Cosigned == nil {
		httpx.WriteProblem(c, httpx.NotFound("this registry has no witnesses"))
		return
	}
	cp, err := a.Cosigned.Witnessed(c.Request.Context())
	if errors.Is(err, witness.ErrNotFound) {
		httpx.WriteProblem(c, httpx.NotFound("no checkpoint has been cosigned by a quorum of the witnesses yet"))
		return
	}
	if err != nil {
		httpx.Error(c, a.Logger, err)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", cp)
}

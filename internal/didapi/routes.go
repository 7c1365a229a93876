package didapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/registry"
	"github.com/gin-gonic/gin"
)

// API serves DID resolution, hosted did:web documents and DID administration.
type API struct {
	Resolver *did.Resolver
	Hosted   *Hosted
	Log      *slog.Logger
}

// Routes mounts the public routes on r and the admin routes on admin (which must
// already require the admin scope): ResolverRoutes and WebRoutes.
func (a *API) Routes(r gin.IRoutes, admin gin.IRoutes) {
	a.ResolverRoutes(r, admin)
	a.WebRoutes(r)
}

// WebRoutes mounts the service's own did:web document, /.well-known/did.json.
func (a *API) WebRoutes(r gin.IRoutes) {
	r.GET("/.well-known/did.json", a.serveWeb)
}

// ResolverRoutes mounts DID resolution on r and DID administration on admin
// (which must already require the admin scope). The other hosted did:web
// documents are served by NoRoute.
func (a *API) ResolverRoutes(r gin.IRoutes, admin gin.IRoutes) {
	r.GET("/1.0/identifiers/*did", a.resolve)
	admin.POST("/admin/dids", a.create)
	admin.GET("/admin/dids", a.list)
	admin.POST("/admin/dids/:did/rotate", a.rotate)
	admin.POST("/admin/dids/:did/update", a.updateServices)
	admin.POST("/admin/dids/:did/deactivate", a.deactivate)
}

// NoRoute serves /{path}/did.json for hosted did:web DIDs; it reports whether it
// answered, so the caller's not-found handler runs otherwise.
func (a *API) NoRoute(c *gin.Context) bool {
	p := c.Request.URL.Path
	if c.Request.Method != http.MethodGet || !strings.HasSuffix(p, "/did.json") {
		return false
	}
	a.serveWeb(c)
	return true
}

func (a *API) serveWeb(c *gin.Context) {
	path := strings.TrimSuffix(strings.TrimPrefix(c.Request.URL.Path, "/"), "did.json")
	var segs []string
	if path != ".well-known/" {
		var err error
		if segs, err = ParsePath(path); err != nil || len(segs) == 0 {
			httpx.WriteProblem(c, httpx.NotFound("no DID document at this path"))
			return
		}
	}
	doc, err := a.Hosted.WebDocument(c.Request.Context(), segs)
	if errors.Is(err, did.ErrNotFound) {
		httpx.WriteProblem(c, httpx.NotFound("no DID document at this path"))
		return
	}
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=60")
	writeJSON(c, http.StatusOK, did.MediaDIDJSON, doc)
}

// representation is what the client accepts: a resolution result or a bare
// document in a given media type.
type representation struct {
	mediaType string
	result    bool
}

// negotiate picks the best supported representation from an Accept header.
func negotiate(accept string) (representation, bool) {
	if strings.TrimSpace(accept) == "" {
		return representation{did.MediaDIDResolution, true}, true
	}
	type cand struct {
		rep representation
		q   float64
		i   int
	}
	var cands []cand
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q <= 0 {
				continue
			}
		}
		if rep, ok := mediaRepresentation(mt, params["profile"]); ok {
			cands = append(cands, cand{rep, q, i})
		}
	}
	if len(cands) == 0 {
		return representation{}, false
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].q > cands[b].q })
	return cands[0].rep, true
}

func mediaRepresentation(mt, profile string) (representation, bool) {
	switch mt {
	case did.MediaDIDResolution, "*/*", "application/*":
		return representation{did.MediaDIDResolution, true}, true
	case "application/ld+json":
		if strings.Contains(profile, "https://w3id.org/did-resolution") {
			return representation{did.MediaLDJSONProfile, true}, true
		}
		return representation{did.MediaDIDLDJSON, false}, true
	case did.MediaDIDJSON, did.MediaDIDLDJSON:
		return representation{mt, false}, true
	case "application/json":
		return representation{did.MediaDIDJSON, false}, true
	}
	return representation{}, false
}

// resolutionBody is the DID resolution result as served.
type resolutionBody struct {
	Context string `json:"@context"`
	*did.Resolution
}

func (a *API) resolve(c *gin.Context) {
	rep, ok := negotiate(c.GetHeader("Accept"))
	id, opts, err := identifier(c)
	if err == nil && !ok {
		err = errors.Join(did.ErrRepresentationNotSupported, errors.New("supported: application/did-resolution, application/did+json, application/did+ld+json"))
	}
	var res *did.Resolution
	if err == nil {
		opts.Accept = rep.mediaType
		res, err = a.Resolver.Resolve(c.Request.Context(), id, opts)
	}
	if err != nil {
		a.resolveError(c, err)
		return
	}
	status := http.StatusOK
	if res.DocumentMetadata.Deactivated {
		status = http.StatusGone
	}
	c.Header("Cache-Control", "no-cache")
	if !rep.result {
		writeJSON(c, status, rep.mediaType, res.Document)
		return
	}
	out := *res
	out.Metadata.ContentType = did.MediaDIDLDJSON
	writeJSON(c, status, rep.mediaType, resolutionBody{Context: did.ContextDIDResolution, Resolution: &out})
}

func (a *API) resolveError(c *gin.Context, err error) {
	e, status := did.Classify(err)
	if status == http.StatusInternalServerError {
		a.Log.ErrorContext(c.Request.Context(), "DID resolution failed", "request_id", httpx.RequestID(c), "err", err)
	}
	body := resolutionBody{Context: did.ContextDIDResolution, Resolution: &did.Resolution{Metadata: did.ResolutionMetadata{Error: e}}}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, status, did.MediaDIDResolution, body)
}

// identifier extracts the DID and resolution options from the request. The DID is
// taken from the raw path, so percent-encoding inside it (did:web ports) survives;
// a fully percent-encoded DID ("did%3Aweb%3A...") is decoded once.
func identifier(c *gin.Context) (string, did.Options, error) {
	raw := strings.TrimPrefix(c.Request.URL.EscapedPath(), "/1.0/identifiers/")
	if strings.HasPrefix(strings.ToLower(raw), "did%3a") {
		dec, err := url.PathUnescape(raw)
		if err != nil {
			return "", did.Options{}, errors.Join(did.ErrInvalidDID, err)
		}
		raw = dec
	}
	var opts did.Options
	for k, v := range c.Request.URL.Query() {
		switch k {
		case "versionId":
			opts.VersionID = v[0]
		case "versionTime":
			opts.VersionTime = v[0]
		case "publicKeyFormat":
			opts.PublicKeyFormat = v[0]
		case "enableEncryptionKeyDerivation":
			opts.EnableEncryptionKeyDerivation = v[0] == "true"
		default:
			return "", opts, errors.Join(did.ErrInvalidOptions, errors.New("unknown resolution option "+strconv.Quote(k)))
		}
	}
	return raw, opts, nil
}

type createRequest struct {
	Method  string `json:"method"`
	KeyType string `json:"keyType"`
	Path    string `json:"path"`
	Label   string `json:"label"`
}

type createResponse struct {
	DID         string        `json:"did"`
	DIDDocument *did.Document `json:"didDocument"`
	KeyIDs      []string      `json:"keyIds"`
	// VersionID and Receipt are set for did:credence, which is created on the ledger.
	VersionID string            `json:"versionId,omitempty"`
	Receipt   *registry.Receipt `json:"receipt,omitempty"`
}

func (a *API) create(c *gin.Context) {
	var req createRequest
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpx.Error(c, a.Log, badJSON(err))
		return
	}
	if _, err := dec.Token(); err != io.EOF { // one JSON object, nothing after it
		if err == nil {
			err = errors.New("unexpected data after the JSON object")
		}
		httpx.Error(c, a.Log, badJSON(err))
		return
	}
	if req.KeyType == "" {
		req.KeyType = string(keys.Ed25519)
	}
	alg, err := keys.ParseAlgorithm(req.KeyType)
	if err != nil {
		httpx.WriteProblem(c, invalid("keyType", err.Error()))
		return
	}
	path, err := ParsePath(req.Path)
	if err != nil {
		httpx.WriteProblem(c, invalid("path", err.Error()))
		return
	}
	if len(req.Label) > 200 {
		httpx.WriteProblem(c, invalid("label", "at most 200 characters"))
		return
	}
	if req.Method == "credence" && len(path) == 0 {
		res, err := a.Hosted.CreateCredence(c.Request.Context(), alg, req.Label)
		if err != nil {
			a.ledgerFail(c, err)
			return
		}
		c.JSON(http.StatusCreated, createResponse{DID: res.Document.ID, DIDDocument: res.Document, KeyIDs: res.Record.KeyIDs,
			VersionID: res.VersionID(), Receipt: &res.Receipt})
		return
	}
	rec, doc, err := a.Hosted.Create(c.Request.Context(), req.Method, alg, path, req.Label)
	if errors.Is(err, ErrInvalidRequest) {
		field := "method"
		var fe *invalidField
		if errors.As(err, &fe) {
			field = fe.field
		}
		httpx.WriteProblem(c, invalid(field, err.Error()))
		return
	}
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	c.JSON(http.StatusCreated, createResponse{DID: doc.ID, DIDDocument: doc, KeyIDs: rec.KeyIDs})
}

func (a *API) list(c *gin.Context) {
	recs, err := a.Hosted.List(c.Request.Context())
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	if recs == nil {
		recs = []Record{}
	}
	c.JSON(http.StatusOK, gin.H{"dids": recs})
}

func invalid(field, detail string) *httpx.Problem {
	p := httpx.NewProblem(http.StatusUnprocessableEntity, "invalid-input", "Invalid input", detail)
	p.Errors = []httpx.FieldError{{Field: field, Detail: detail}}
	return p
}

func badJSON(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	return httpx.BadRequest("request body is not valid JSON for this endpoint: " + err.Error())
}

func writeJSON(c *gin.Context, status int, mediaType string, v any) {
	httpx.JSON(c, status, mediaType, v)
}

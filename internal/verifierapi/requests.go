package verifierapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

// Presentation requests over HTTP.
//
// A verifier tenant creates a request (POST /verifier/requests) and shows
// its qr to the holder. The qr payload is the plain https URL of the
// request object, {BaseURL}/verifier/requests/{id}/object: the object is
// unsigned JSON, not an OpenID4VP request object (a signed JWT), so it is
// not dressed up as an openid4vp:// URI. The holder's wallet fetches the
// object (query, challenge, domain, purpose, expiry, response_uri) and
// posts {"verifiablePresentation": ...} to response_uri. The tenant reads
// the state and outcome with GET /verifier/requests/{id}.
//
// # Answers
//
// Anyone who sees the qr can post to response_uri, and can sign a
// presentation for the request's challenge and domain with a key of their
// own, so a response changes the request only when it can be the
// holder's:
//
//   - Bound (its own proof carries the request's challenge and domain, and
//     the holder the request names, if any, signed it), and accepted or
//     reviewed: it consumes the challenge and completes the request with
//     its outcome. Any later response is answered 409 with an
//     RFC 9457 problem of type urn:credence:problem:presentation-replayed
//     carrying "code": "PRESENTATION_REPLAYED".
//   - Rejected, and bound: an attempt. The holder is answered 422
//     {"verified":false,"decision":"reject"}; the request counts it
//     ("attempts") and keeps its outcome ("lastAttempt") for the tenant to
//     see, and stays pending with its challenge unused, so nobody can turn
//     the holder away by answering first. An attempt that comes after the
//     request was completed is a replay (409).
//   - Anything else (malformed, unsigned, bound to another challenge or
//     domain) is answered and changes nothing. So is a presentation signed
//     by another DID than the holder the request names ("holder", optional,
//     never in the request object): 422, recorded with the code
//     PRESENTATION_HOLDER_UNEXPECTED, not an attempt.
//
// Every response that could be verified is recorded in the audit log.

// Body limits of the request routes. A holder's response may exceed the
// server's default body limit: mount httpx.LimitBody with
// ResponseRoute: MaxResponseBytes.
const (
	ResponseRoute    = "/verifier/requests/:id/response"
	MaxResponseBytes = vc.MaxDocumentBytes + 4<<10
	maxCreateBody    = verifier.MaxQueryBytes + 16<<10
	maxChallengeReq  = 1 << 10
)

// CodeReplayed is the code of a second response to a request.
const CodeReplayed = "PRESENTATION_REPLAYED"

// Requests serves presentation requests and VC-API challenges.
type Requests struct {
	Requests *verifier.Requests
	// Check verifies a holder's presentation against a request (proof,
	// holder binding, query match, rules), without side effects (API.Check).
	Check func(ctx context.Context, req *verifier.Request, presentation json.RawMessage) Answer
	// Record, when set, appends an answer's decision to the audit log; an
	// answer that cannot be recorded is answered 500 (API.RecordAnswer).
	Record func(ctx context.Context, ans Answer) error
	// Refused, when set, records a presentation refused as a replay (a
	// response to a completed request, or a rejected one whose request was
	// completed while it was verified) in the audit log.
	Refused func(ctx context.Context, req *verifier.Request, presentation json.RawMessage, code string) error
	Log     *slog.Logger
}

// Routes mounts the tenant routes (behind a verifier token) and the public
// routes the holder uses (authenticated by the request's challenge).
func (a *Requests) Routes(tenant, public gin.IRoutes) {
	tenant.POST("/verifier/requests", a.create)
	tenant.GET("/verifier/requests/:id", a.get)
	tenant.POST("/challenges", a.challenge)
	public.GET("/verifier/requests/:id/object", a.object)
	public.POST(ResponseRoute, a.respond)
}

// requestView is a request as its tenant sees it.
type requestView struct {
	*verifier.Request
	URL string `json:"url"`
	QR  string `json:"qr"`
}

// requestObject is what the holder needs, never the outcome.
type requestObject struct {
	ID          string         `json:"id"`
	Verifier    string         `json:"verifier"`
	Query       verifier.Query `json:"query"`
	Challenge   string         `json:"challenge"`
	Domain      string         `json:"domain"`
	Purpose     string         `json:"purpose,omitempty"`
	Expires     time.Time      `json:"expires"`
	ResponseURI string         `json:"response_uri"`
}

func (a *Requests) base() string { return strings.TrimRight(a.Requests.BaseURL, "/") }

func (a *Requests) objectURL(id string) string {
	return a.base() + "/verifier/requests/" + id + "/object"
}

func (a *Requests) view(req *verifier.Request) requestView {
	u := a.objectURL(req.ID)
	return requestView{Request: req, URL: u, QR: u}
}

// requestTenant answers 403 when the token names no verifier tenant (an admin
// token): requests belong to a tenant.
func requestTenant(c *gin.Context) (string, bool) {
	id := Tenant(c)
	if id == "" {
		httpx.WriteProblem(c, httpx.Forbidden("presentation requests and challenges belong to a verifier tenant: use a verifier token"))
	}
	return id, id != ""
}

// create answers 201 with the request, its url and qr payload.
func (a *Requests) create(c *gin.Context) {
	tenant, ok := requestTenant(c)
	if !ok {
		return
	}
	raw, ok := readJSONObject(c, a.Log, maxCreateBody)
	if !ok {
		return
	}
	var in verifier.RequestInput
	if err := json.Unmarshal(raw, &in); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("invalid request: "+err.Error()))
		return
	}
	req, err := a.Requests.Create(c.Request.Context(), tenant, in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", a.base()+"/verifier/requests/"+req.ID)
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", a.view(req))
}

// get answers the request with its state and outcome; another tenant's
// request is 404, as an unknown one.
func (a *Requests) get(c *gin.Context) {
	tenant, ok := requestTenant(c)
	if !ok {
		return
	}
	req, err := a.Requests.Get(c.Request.Context(), c.Param("id"))
	if err == nil && req.Verifier != tenant {
		err = verifier.ErrRequestNotFound
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", a.view(req))
}

// challenge is VC-API POST /challenges: 201 {"challenge": ...}. The body
// is empty or an empty JSON object.
func (a *Requests) challenge(c *gin.Context) {
	tenant, ok := requestTenant(c)
	if !ok {
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxChallengeReq))
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	if b := bytes.TrimSpace(raw); len(b) > 0 {
		if m, err := vc.DecodeObject(b); err != nil || len(m) > 0 {
			httpx.WriteProblem(c, httpx.BadRequest("the body of POST /challenges is empty or {}"))
			return
		}
	}
	ch, _, err := a.Requests.NewChallenge(c.Request.Context(), tenant)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", gin.H{"challenge": ch})
}

// object answers what the holder needs to respond, while the request is
// pending; 410 once it is completed or expired.
func (a *Requests) object(c *gin.Context) {
	req, err := a.Requests.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	if p := closed(req); p != nil {
		httpx.WriteProblem(c, p)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", requestObject{
		ID: req.ID, Verifier: req.Verifier, Query: req.Query, Challenge: req.Challenge, Domain: req.Domain,
		Purpose: req.Purpose, Expires: req.Expires, ResponseURI: a.base() + "/verifier/requests/" + req.ID + "/response",
	})
}

func closed(req *verifier.Request) *httpx.Problem {
	switch req.State {
	case verifier.RequestCompleted:
		return httpx.NewProblem(http.StatusGone, "request-completed", "Presentation request completed",
			"the request has already been answered")
	case verifier.RequestExpired:
		return expiredProblem()
	}
	return nil
}

func expiredProblem() *httpx.Problem {
	return httpx.NewProblem(http.StatusGone, "request-expired", "Presentation request expired",
		"the request expired: ask the verifier for a new one")
}

type responseBody struct {
	VerifiablePresentation json.RawMessage `json:"verifiablePresentation"`
}

// respond takes the holder's presentation: the request must be pending and
// Check verifies it. Only a bound answer (Answer.Bound: its own proof
// carries the request's challenge and domain, signed by the holder the
// request names, if any) changes the request: accepted or reviewed, it
// consumes the challenge, is recorded, and completes the request with its
// outcome; rejected, it is counted as an attempt and recorded, and the
// request stays pending. Anything else (malformed, unsigned, signed for
// another challenge or domain, or by an unexpected holder) is recorded when
// it could be verified and answered, and changes nothing: whoever sees the
// request's URL can neither close it nor use up its challenge before its
// holder answers.
func (a *Requests) respond(c *gin.Context) {
	vp, ok := readResponse(c, a.Log)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	req, err := a.Requests.Get(ctx, c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	switch req.State {
	case verifier.RequestCompleted:
		a.refuseReplay(c, req, vp)
		return
	case verifier.RequestExpired:
		httpx.WriteProblem(c, expiredProblem())
		return
	}
	ans := a.Check(ctx, req, vp)
	switch {
	case !ans.Bound:
		a.record(ctx, &ans)
	case ans.Outcome.Decision == verifier.Accept || ans.Outcome.Decision == verifier.Review:
		ok = a.complete(c, req, vp, &ans)
	default:
		ok = a.attempt(c, req, vp, &ans)
	}
	if !ok {
		return
	}
	if p, ok := ans.Body.(*httpx.Problem); ok {
		httpx.WriteProblem(c, p)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, ans.Status, "application/json", ans.Body)
}

// readResponse reads the holder's {"verifiablePresentation": ...},
// answering 400 or 413 when it is not one.
func readResponse(c *gin.Context, log *slog.Logger) (json.RawMessage, bool) {
	raw, ok := readJSONObject(c, log, MaxResponseBytes)
	if !ok {
		return nil, false
	}
	var body responseBody
	if err := strictDecode(raw, &body); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("invalid response: "+err.Error()))
		return nil, false
	}
	vp := bytes.TrimSpace(body.VerifiablePresentation)
	if len(vp) == 0 || vp[0] != '{' && vp[0] != '"' {
		httpx.WriteProblem(c, httpx.BadRequest("verifiablePresentation must be a presentation object or a compact token string"))
		return nil, false
	}
	return vp, true
}

// complete answers req with an accepted or reviewed answer: it consumes the
// challenge (409 when another answer did first), records the answer and
// stores its outcome. False when it answered the holder itself.
func (a *Requests) complete(c *gin.Context, req *verifier.Request, vp json.RawMessage, ans *Answer) bool {
	ctx := c.Request.Context()
	_, id, err := a.Requests.UseChallenge(ctx, req.Challenge)
	switch {
	case errors.Is(err, verifier.ErrReplay):
		a.refuseReplay(c, req, vp) // another response answered it meanwhile
		return false
	case err == nil && id != req.ID:
		err = errors.New("the challenge of request " + req.ID + " belongs to request " + id)
		fallthrough
	case err != nil:
		a.fail(c, err)
		return false
	}
	a.record(ctx, ans)
	if err := a.Requests.Complete(context.WithoutCancel(ctx), req.ID, ans.Outcome); err != nil {
		httpx.Error(c, a.Log, err)
		return false
	}
	return true
}

// attempt counts a rejected answer in req, which stays pending with its
// challenge unused, and records it; an attempt that comes after the request
// was answered is refused as a replay (409). False when it answered the
// holder itself.
func (a *Requests) attempt(c *gin.Context, req *verifier.Request, vp json.RawMessage, ans *Answer) bool {
	ctx := c.Request.Context()
	err := a.Requests.AddAttempt(ctx, req.ID, ans.Outcome)
	if errors.Is(err, verifier.ErrRequestCompleted) {
		a.refuseReplay(c, req, vp)
		return false
	}
	if err != nil {
		a.fail(c, err)
		return false
	}
	a.record(ctx, ans)
	return true
}

// record appends the answer's decision to the audit log. When it cannot,
// the holder is answered 500 (and an answer that completes the request
// stores a bare rejection as its outcome).
func (a *Requests) record(ctx context.Context, ans *Answer) {
	if a.Record == nil {
		return
	}
	if err := a.Record(ctx, *ans); err != nil {
		a.Log.ErrorContext(ctx, "failed to record a decision in the audit log", "err", err)
		p := httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "the decision could not be recorded")
		ans.Status, ans.Body = p.Status, p
		ans.Outcome = verifier.Outcome{Decision: verifier.Reject, Completed: time.Now().UTC()}
	}
}

// refuseReplay answers (and records) a response to an answered request.
func (a *Requests) refuseReplay(c *gin.Context, req *verifier.Request, vp json.RawMessage) {
	if a.Refused != nil {
		if err := a.Refused(c.Request.Context(), req, vp, verifier.CodeReplayed); err != nil {
			httpx.Error(c, a.Log, err)
			return
		}
	}
	writeReplayed(c)
}

// replayedProblem is the RFC 9457 answer to a second response, with the
// reason code as an extension member.
type replayedProblem struct {
	*httpx.Problem
	Code string `json:"code"`
}

func writeReplayed(c *gin.Context) {
	p := httpx.NewProblem(http.StatusConflict, "presentation-replayed", "Presentation replayed",
		"this request was already answered; its challenge is single-use")
	p.RequestID, p.Instance = httpx.RequestID(c), c.Request.URL.Path
	c.Header("Content-Type", httpx.MediaProblem)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, replayedProblem{Problem: p, Code: CodeReplayed})
}

// fail maps the domain errors of requests to problems.
func (a *Requests) fail(c *gin.Context, err error) {
	var ie *verifier.InputError
	switch {
	case errors.As(err, &ie):
		p := httpx.NewProblem(http.StatusBadRequest, "invalid-request", "Invalid presentation request", ie.Field+": "+ie.Detail)
		p.Errors = []httpx.FieldError{{Field: ie.Field, Detail: ie.Detail}}
		httpx.WriteProblem(c, p)
	case errors.Is(err, verifier.ErrRequestNotFound):
		httpx.WriteProblem(c, httpx.NotFound("no such presentation request"))
	case errors.Is(err, verifier.ErrReplay):
		writeReplayed(c)
	case errors.Is(err, verifier.ErrChallengeExpired):
		httpx.WriteProblem(c, expiredProblem())
	default:
		httpx.Error(c, a.Log, err)
	}
}

// readJSONObject reads a body of at most limit bytes that must be one
// strictly valid JSON object (no repeated names, valid UTF-8, bounded
// depth), answering 400 or 413 otherwise.
func readJSONObject(c *gin.Context, log *slog.Logger, limit int64) ([]byte, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		httpx.Error(c, log, err)
		return nil, false
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("the body is not a JSON object: "+err.Error()))
		return nil, false
	}
	return raw, true
}

func strictDecode(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

package wallet

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
)

// Errors of presenting.
var (
	// ErrRequest is an unusable presentation request (malformed, expired,
	// a query Credence cannot evaluate).
	ErrRequest = errors.New("invalid presentation request")
	// ErrUnsatisfied means the holder has no credentials that satisfy the
	// request; the error names what is missing.
	ErrUnsatisfied = errors.New("the wallet cannot satisfy the request")
	// ErrDelivery is a failure to fetch a request or to send a response.
	ErrDelivery = errors.New("cannot reach the verifier")
)

// Limits of the requests and answers a wallet handles.
const (
	MaxRequestBytes  = 128 << 10
	MaxResponseBytes = 1 << 20
	// MaxChosenCredentials bounds the credential ids a holder may choose
	// for one presentation (PresentOptions.Credentials, duplicates
	// dropped): each is read and decrypted.
	MaxChosenCredentials = 64
)

// Presenter answers presentation requests for the holders of a wallet.
type Presenter struct {
	Wallet *Service
	Engine *secure.Engine
	// HTTP fetches request URIs and posts responses; the server gives a
	// client that refuses private addresses.
	HTTP *http.Client
	// AllowHTTP lets the presenter fetch request objects from, and send
	// presentations to, plain http URLs (development; the server sets it
	// with the Claimer's AllowHTTP). Without it both must be https.
	AllowHTTP bool
}

// PresentOptions refine an answer.
type PresentOptions struct {
	// Credentials, when set, are the wallet ids the holder chose: the
	// selection considers only these. Duplicates are dropped; more than
	// MaxChosenCredentials ids is ErrRequest.
	Credentials []string
	// Format secures a W3C presentation: "di" (eddsa-rdfc-2022, the default
	// for Ed25519 holders), "di-jcs", "ed25519-2020" or "jwt" (vp+jwt, the
	// default for P-256 holders). SD-JWT VCs are always presented as
	// SD-JWT+KB.
	Format string
	// Send posts the presentation to the request's response_uri (https
	// unless the Presenter's AllowHTTP) and records the verifier's answer;
	// without it the presentation is returned.
	Send bool
}

// Presentation is an answer to a request.
type Presentation struct {
	// Presentation is the VP (a JSON object, or a string: an SD-JWT+KB or a
	// compact vp+jwt).
	Presentation any                `json:"presentation"`
	Format       string             `json:"format"`
	Selection    verifier.Selection `json:"selection"`
	Disclosure   Disclosure         `json:"disclosure"`
	// Response is the verifier's answer when the presentation was sent.
	Response *Response `json:"response,omitempty"`
}

// Response is what the verifier answered.
type Response struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"`
}

func (p *Presenter) now() time.Time {
	if p.Wallet != nil && p.Wallet.Now != nil {
		return p.Wallet.Now()
	}
	return time.Now()
}

// Present answers req for a holder: it selects the holder's credentials
// that satisfy the query (verifier.Query.Select: the fewest credentials and
// SD-JWT claims), secures a presentation with the holder's key bound to the
// request's challenge and domain, records the disclosure in the holder's
// log, and, with o.Send, posts it to the request's response_uri.
//
// A request with a response_uri must be bound to it: its domain must be
// the response_uri's origin or host (see checkAudience), else ErrRequest;
// so a request that reuses a verifier's challenge and domain cannot have
// the presentation sent elsewhere and relayed.
func (p *Presenter) Present(ctx context.Context, holderID string, req *Request, o PresentOptions) (*Presentation, error) {
	if err := p.checkRequest(req, o.Send); err != nil {
		return nil, err
	}
	ids, err := chosenIDs(o.Credentials)
	if err != nil {
		return nil, err
	}
	signer, err := p.Wallet.Signer(ctx, holderID)
	if err != nil {
		return nil, err
	}
	holder, err := p.Wallet.Holder(ctx, holderID)
	if err != nil {
		return nil, err
	}
	creds, err := p.candidates(ctx, holderID, ids)
	if err != nil {
		return nil, err
	}
	sel, chosen, err := p.choose(req, creds)
	if err != nil {
		return nil, err
	}
	out := &Presentation{Selection: sel}
	disclosed := make([]DisclosedCredential, len(chosen))
	var sd []string
	for i, c := range chosen {
		disclosed[i] = DisclosedCredential{ID: c.stored.ID, Types: c.stored.Types, Issuer: c.stored.Issuer,
			Format: c.stored.Format, Disclosed: c.disclose}
		if c.stored.Format == "dc+sd-jwt" {
			sd = c.disclose
		}
	}
	format, err := presentationFormat(o.Format, signer, chosen)
	if err != nil {
		return nil, err
	}
	inputs := make([]any, len(chosen))
	for i, c := range chosen {
		if inputs[i], err = secure.ParseInput(c.stored.Credential); err != nil {
			return nil, fmt.Errorf("stored credential %s: %w", c.stored.ID, err)
		}
	}
	vp, err := p.Engine.Present(ctx, holder.DID, inputs, signer, secure.PresentOptions{
		Format: format, Challenge: req.Challenge, Domain: req.Domain, Now: p.now(), Disclose: sd})
	if err != nil {
		return nil, fmt.Errorf("securing the presentation: %w", err)
	}
	out.Presentation, out.Format = vp, string(format)
	d := Disclosure{RequestID: req.ID, Verifier: recipient(req, o.Send), ClaimedVerifier: req.Verifier,
		Audience: req.Domain, Challenge: req.Challenge, Format: string(format), Credentials: disclosed}
	if o.Send {
		out.Response, err = p.send(ctx, req.ResponseURI, vp)
		d.Delivered = err == nil
		if out.Response != nil {
			d.Status = out.Response.Status
			d.Outcome = outcomeOf(out.Response.Body)
		}
	}
	// The presentation left (or may leave) the wallet: record it even when
	// sending failed, since the verifier may have received it.
	rec, rerr := p.Wallet.RecordDisclosure(context.WithoutCancel(ctx), holderID, d)
	if rerr != nil {
		return nil, fmt.Errorf("recording the disclosure: %w", rerr)
	}
	out.Disclosure = rec
	if err != nil {
		return out, err
	}
	return out, nil
}

// candidates are the holder's credentials the selection may use: the
// chosen ones, or all, valid ones (within validFrom and validUntil) first
// and newest first.
func (p *Presenter) candidates(ctx context.Context, holderID string, ids []string) ([]Stored, error) {
	if len(ids) > 0 {
		out := make([]Stored, 0, len(ids))
		for _, id := range ids {
			s, err := p.Wallet.Credential(ctx, holderID, id)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	all, err := p.Wallet.Credentials(ctx, holderID, Filter{})
	if err != nil {
		return nil, err
	}
	now := p.now()
	valid := func(s Stored) bool {
		return (s.ValidFrom == nil || !now.Before(*s.ValidFrom)) && (s.ValidUntil == nil || now.Before(*s.ValidUntil))
	}
	slices.SortStableFunc(all, func(a, b Stored) int {
		switch va, vb := valid(a), valid(b); {
		case va && !vb:
			return -1
		case vb && !va:
			return 1
		}
		return 0
	})
	return all, nil
}

type chosenCredential struct {
	stored   Stored
	disclose []string
}

// choose runs the request's query over the holder's credentials.
func (p *Presenter) choose(req *Request, creds []Stored) (verifier.Selection, []chosenCredential, error) {
	if len(req.Query.DCQL) == 0 && len(req.Query.PresentationDefinition) == 0 {
		return verifier.Selection{Satisfied: true, Missing: []string{}, Picks: []verifier.Pick{}}, nil, nil
	}
	cands := make([]verifier.Candidate, len(creds))
	for i, s := range creds {
		cands[i] = verifier.Candidate{Index: i, Format: s.Format, Credential: s.Claims}
	}
	sel, err := req.Query.Select(cands)
	if err != nil {
		return sel, nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	if !sel.Satisfied {
		return sel, nil, fmt.Errorf("%w: nothing in the wallet satisfies %s", ErrUnsatisfied, strings.Join(sel.Missing, ", "))
	}
	var out []chosenCredential
	at := map[int]int{}
	for _, pk := range sel.Picks {
		if i, ok := at[pk.Candidate]; ok { // one credential answers two items
			if out[i].disclose != nil {
				out[i].disclose = union(out[i].disclose, pk.Disclose)
			}
			continue
		}
		at[pk.Candidate] = len(out)
		out = append(out, chosenCredential{stored: creds[pk.Candidate], disclose: pk.Disclose})
	}
	return sel, out, nil
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// presentationFormat picks how to secure the answer. An SD-JWT VC is
// presented alone as SD-JWT+KB: Credence's verifiers take one presentation
// per response, and an SD-JWT's key binding is its own proof.
func presentationFormat(name string, signer vc.Signer, chosen []chosenCredential) (secure.Format, error) {
	sd := slices.ContainsFunc(chosen, func(c chosenCredential) bool { return c.stored.Format == "dc+sd-jwt" })
	if sd {
		if len(chosen) > 1 {
			return "", fmt.Errorf("%w: the request needs an SD-JWT VC together with other credentials; an SD-JWT VC is presented alone (SD-JWT+KB), so answer with one request per SD-JWT VC", ErrUnsatisfied)
		}
		if name != "" && name != string(secure.SDJWT) {
			return "", fmt.Errorf("%w: an SD-JWT VC is presented as SD-JWT+KB, not %q", ErrRequest, name)
		}
		return secure.SDJWT, nil
	}
	_, eddsa := signer.Key.Public().(ed25519.PublicKey)
	if name == "" {
		if eddsa {
			return secure.DataIntegrity, nil
		}
		return secure.JWT, nil
	}
	f, err := secure.ParseFormat(name)
	if err != nil || f == secure.SDJWT {
		return "", fmt.Errorf("%w: presentation format %q (di, di-jcs, ed25519-2020 or jwt)", ErrRequest, name)
	}
	if f != secure.JWT && !eddsa {
		return "", fmt.Errorf("%w: presentation format %q needs an Ed25519 holder key (use jwt)", ErrRequest, name)
	}
	return f, nil
}
